"""The confirmation step of turning on a recall or birthday journey."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired

from oncord.automations.triggers.recall import MONTH_CHOICES
from oncord.forms import choices
from oncord.models import Backfill

BACKFILL_CHOICES = {
    Backfill.ALL.value: "Start them now",
    Backfill.NEW.value: "Only new ones (people who come to match from now on)",
}


class SwitchOnForm(FlaskForm):
    """Staff's choice about the people who match already (and, for recall, after how long)."""

    backfill = RadioField("The people who match now", choices=choices(BACKFILL_CHOICES.items()),
                          validators=[InputRequired("Choose whether to start them now or only new ones.")])
    recall_months = SelectField("No appointment for", coerce=int, default=6,
                                choices=choices((n, f"{n} months") for n in MONTH_CHOICES))
