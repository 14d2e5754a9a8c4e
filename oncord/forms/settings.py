"""Settings forms: the Cliniko key, auto-sync, and staff users."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, Email, Length

from oncord.forms import choices
from oncord.forms.auth import strong_password
from oncord.models import Role

ROLE_CHOICES = choices([(Role.STAFF.value, "Staff"), (Role.ADMIN.value, "Admin")])


class ConnectClinikoForm(FlaskForm):
    """The API key a Cliniko user created under My Info → Manage API keys."""

    api_key = PasswordField(
        "Cliniko API key",
        validators=[DataRequired("Paste the API key from Cliniko."), Length(max=200)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    # Pre-set to the clinic's previous choice when it reconnects.
    auto_sync = BooleanField("Synchronise automatically")


class AutoSyncForm(FlaskForm):
    """Whether Oncord pulls from Cliniko on its own every few minutes."""

    enabled = BooleanField("Synchronise automatically")


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (Synchronise, Disconnect)."""


class NewUserForm(FlaskForm):
    """A new staff login."""

    email = EmailField("E-mail", validators=[DataRequired("Enter an e-mail address."),
                                             Email("Enter a valid e-mail address."), Length(max=255)])
    password = PasswordField(
        "First password",
        validators=[DataRequired("Choose a first password."), strong_password],
        render_kw={"autocomplete": "new-password"},
    )
    role = SelectField("Role", choices=ROLE_CHOICES)


class EditUserForm(FlaskForm):
    """An existing user's role and whether they may log in."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Can log in")
