"""The contacts list filters (GET, no CSRF) and the contact edit form."""

from __future__ import annotations

from datetime import date
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from oncord.bounds import is_id
from oncord.contacts.countries import country_choices
from oncord.contacts.phones import phone_region
from oncord.contacts.queries import SORTS, ContactFilters
from oncord.forms import choices
from oncord.models import MarketingStatus
from oncord.sync.patient_fields import BY_COLUMN, EDITABLE, EDITED_HERE, PatientField, Value

STATUS_LABELS = {
    MarketingStatus.SUBSCRIBED.value: "Subscribed",
    MarketingStatus.PENDING.value: "Pending",
    MarketingStatus.UNSUBSCRIBED.value: "Unsubscribed",
}


class ContactFilterForm(FlaskForm):
    """Search, filters, sort and page of the contacts list, read from the query string."""

    class Meta:
        csrf = False  # a GET that changes nothing

    q = SearchField("Search", validators=[Optional(), Length(max=200)])
    email_status = SelectField("E-mail", choices=choices([("", "Any e-mail status"), *STATUS_LABELS.items()]))
    sms_status = SelectField("SMS", choices=choices([("", "Any SMS status"), *STATUS_LABELS.items()]))
    linked = SelectField("Cliniko", choices=choices([("", "Linked or not"), ("yes", "Linked to Cliniko"),
                                                     ("no", "Not in Cliniko")]))
    practitioner = SelectField("Seen by", choices=choices([("", "Any practitioner")]), validate_choice=False)
    sort = SelectField("Sort", choices=choices((key, label) for key, (label, _order) in SORTS.items()))
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])

    def set_practitioners(self, people: list[tuple[int, str]]) -> None:
        """Offer these practitioners in the "seen by" filter."""
        options = [("", "Any practitioner"), *((str(i), name) for i, name in people)]
        self.practitioner.choices = choices(options)

    def filters(self) -> ContactFilters:
        """The list state; anything invalid falls back to its default rather than failing."""
        self.validate()

        def clean(field: Any, default: Any = "") -> Any:
            return default if field.errors or field.data in (None, "None") else field.data

        practitioner = clean(self.practitioner)
        return ContactFilters(
            q=clean(self.q).strip(),
            email_status=clean(self.email_status),
            sms_status=clean(self.sms_status),
            linked=clean(self.linked),
            practitioner_id=int(practitioner) if str(practitioner).isdigit() and is_id(int(practitioner))
            else None,
            sort=clean(self.sort, "name") or "name",
            page=clean(self.page, 1) or 1,
        )


def _email(_form: FlaskForm, field: Any) -> None:
    if not field.data:
        return
    try:
        field.data = validate_email(field.data.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(f"This is not a valid e-mail address: {exc}") from exc


_HINTS = {Value.PHONE: "A mobile number for SMS, e.g. 0412 345 678."}
_BLANK_COUNTRY = ("", "(none)")


def _form_field(field: PatientField) -> Any:
    """The input for one editable row of the patient field table."""
    length = [Length(max=field.max_length)] if field.max_length else []
    if field.value is Value.EMAIL:
        return EmailField(field.label, validators=[Optional(), *length, _email])
    if field.value is Value.PHONE:
        return TelField(field.label, validators=[Optional(), *length])
    if field.value is Value.DATE:
        return DateField(field.label, validators=[Optional()], render_kw={"max": "9999-12-31"})
    if field.value is Value.COUNTRY:
        # Names from pycountry; the code is what is stored and sent to Cliniko.
        return SelectField(field.label, choices=choices([_BLANK_COUNTRY, *country_choices()]))
    if field.value is Value.STATUS:
        return SelectField(field.label, choices=choices(STATUS_LABELS.items()))
    return StringField(field.label, validators=length)


class ContactForm(FlaskForm):
    """Everything staff may change on a contact, marketing status included: one input per
    editable row of oncord.sync.patient_fields.PATIENT_FIELDS (added below the class)."""
    # Recorded in the consent ledger with a changed status; required to re-subscribe a patient
    # who unsubscribed themselves (oncord.contacts.consent decides).
    consent_evidence = TextAreaField("How the patient gave consent", validators=[Optional(), Length(max=500)],
                                     render_kw={"rows": 2})

    def __init__(self, *args: Any, region: str = "AU", today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region
        self.today = today

    def detail_fields(self) -> list[Any]:
        """The contact's details, in table order, for the template."""
        return [self._fields[f.column] for f in EDITED_HERE]

    @staticmethod
    def hint(name: str) -> str | None:
        """The hint shown under a field."""
        return _HINTS.get(BY_COLUMN[name].value)

    @staticmethod
    def wide(name: str) -> bool:
        """Whether the field takes the full width of the grid (address lines)."""
        return BY_COLUMN[name].value is Value.LONG_TEXT

    def lock_marketing(self, attribute: str) -> None:
        """Offer only Unsubscribed on this channel: the patient unsubscribed and only an admin may undo it."""
        options = choices(STATUS_LABELS.items())
        for option in options:
            if option.value != MarketingStatus.UNSUBSCRIBED:
                option.render_kw = {"disabled": True}
        getattr(self, attribute).choices = options

    def validate_date_of_birth(self, field: Any) -> None:
        """Not in the future, and a four-digit year."""
        if field.data is None:
            return
        if field.data > self.today:
            raise ValidationError("The date of birth cannot be in the future.")
        if field.data.year < 1900:
            raise ValidationError("Enter the year in full, e.g. 1984.")

    def validate_first_name(self, field: Any) -> None:
        """A contact needs a name staff can find it by."""
        if not (field.data or "").strip() and not (self._fields["last_name"].data or "").strip():
            raise ValidationError("Enter a first or last name.")

    def validate_phone(self, field: Any) -> None:
        """A real number for the contact's country; it is kept as typed (its E.164 form is derived)."""
        if not field.data:
            return
        region = phone_region(self._fields["country_code"].data, self.region)
        try:
            number = phonenumbers.parse(field.data, region)
        except phonenumbers.NumberParseException as exc:
            raise ValidationError("This is not a phone number. Enter it like 0412 345 678.") from exc
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason in (phonenumbers.ValidationResult.TOO_SHORT, phonenumbers.ValidationResult.INVALID_LENGTH):
            raise ValidationError("This number is too short. Enter it in full, like 0412 345 678.")
        if reason == phonenumbers.ValidationResult.TOO_LONG:
            raise ValidationError("This number has too many digits. Check it and try again.")
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(
                "This number is not valid. Check the digits; for a number outside "
                f"{region}, start with + and the country code."
            )

    def values(self) -> dict[str, Any]:
        """The submitted values by column; the edit logic normalises and compares them."""
        return {f.column: self._fields[f.column].data for f in EDITABLE}


for _row in EDITABLE:
    setattr(ContactForm, _row.column, _form_field(_row))


class CreatePatientForm(FlaskForm):
    """The "Create patient in Cliniko" button: nothing to fill in, but CSRF-protected."""
