"""The public feedback page's form: one score, 0 to 10."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from oncord.forms import choices

SCORE_CHOICES = choices((score, str(score)) for score in range(11))


class FeedbackForm(FlaskForm):
    """How likely the patient is to recommend the clinic."""

    score = RadioField("How likely are you to recommend us to a friend?", choices=SCORE_CHOICES,
                       coerce=int, validators=[InputRequired("Choose a score from 0 to 10.")])
