"""Logging in and changing one's password."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from oncord.accounts.passwords import password_problem


def strong_password(form: Any, field: Any) -> None:
    """Refuse a short, common or guessable password, saying why (the same rule as `users create`).

    The person's e-mail counts as something a guesser knows: the form's `email` field, or the
    `account_email` a view sets for a logged-in user.
    """
    email_field = getattr(form, "email", None)
    email = email_field.data if email_field is not None else getattr(form, "account_email", "")
    problem = password_problem(field.data or "", email=email or "")
    if problem:
        raise ValidationError(problem)


class LoginForm(FlaskForm):
    """E-mail and password; `next` is where to go afterwards."""

    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address.")],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class PasswordForm(FlaskForm):
    """The current password, then the new one twice."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )
    account_email = ""  # set by the view: the logged-in user's e-mail, for strong_password
    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), strong_password]
    )
    confirm = PasswordField(
        "New password again",
        validators=[EqualTo("new_password", message="The two new passwords are not the same.")],
    )
