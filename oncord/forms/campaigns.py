"""The campaign editor (audience conditions and message) and the schedule form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from oncord.campaigns.audience import (
    MAX_DAYS,
    OUTCOMES,
    PERIODS,
    AppointmentCondition,
    Audience,
    ContactConditions,
    Period,
)
from oncord.campaigns.compose import email_body_problems, template_problems
from oncord.campaigns.lifecycle import CampaignData
from oncord.forms import choices
from oncord.forms.fields import MultiCheckboxField, calendar_date, valid_ids, valid_template
from oncord.models import Campaign, MarketingStatus

MAX_CONDITIONS = 5
MAX_SMS_TEMPLATE = 1000
STATUS_CHOICES = [(s.value, s.value.capitalize()) for s in MarketingStatus]
YES_NO_ANY = [("", "Either"), ("yes", "Yes"), ("no", "No")]
PRESENCE_CHOICES = [("has", "Has an appointment"), ("has_no", "Has no appointment")]

DEFAULT_SUBJECT = "We have news for you"
DEFAULT_EMAIL = (
    "Hi {{ first_name }},\n\n"
    "We have news we think you will like.\n\n"
    "Book online any time: {{ book_now_url }}\n\n"
    "See you soon!"
)
DEFAULT_SMS = "Hi {{ first_name }}, we have news! Book online: {{ book_now_url }}"


def _list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip())


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _flag_value(flag: bool | None) -> str:
    return "" if flag is None else ("yes" if flag else "no")


class AppointmentConditionForm(Form):
    """One "has / has no appointment ..." condition (a sub-form: the editor's CSRF token covers it)."""

    presence = SelectField("Condition", choices=choices(PRESENCE_CHOICES), default="has")
    period = SelectField("When", choices=choices(PERIODS.items()), default="last_days")
    days = IntegerField(
        "Days",
        default=180,
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_DAYS, message=f"Enter a number of days from 1 to {MAX_DAYS}."),
        ],
    )
    start = DateField("From", validators=[Optional(), calendar_date])
    end = DateField("To", validators=[Optional(), calendar_date])
    appointment_types = MultiCheckboxField("Appointment types", coerce=int, validate_choice=False,
                                           validators=[valid_ids])
    practitioners = MultiCheckboxField("Practitioners", coerce=int, validate_choice=False,
                                       validators=[valid_ids])
    businesses = MultiCheckboxField("Locations", coerce=int, validate_choice=False, validators=[valid_ids])
    outcomes = MultiCheckboxField("Outcome", choices=choices(OUTCOMES.items()), validate_choice=False)

    def validate(self, extra_validators: Any = None) -> bool:
        """Each period needs its number of days or dates."""
        valid = super().validate(extra_validators)
        period = self.period.data
        if period in ("last_days", "next_days") and not self.days.data:
            self.days.errors = [*self.days.errors, "Enter how many days."]
            valid = False
        if period in ("between", "since", "before") and not self.start.data:
            self.start.errors = [*self.start.errors, "Choose a date."]
            valid = False
        if period == "between":
            if not self.end.data:
                self.end.errors = [*self.end.errors, "Choose the last day."]
                valid = False
            elif self.start.data and self.end.data < self.start.data:
                self.end.errors = [*self.end.errors, "The last day must be on or after the first."]
                valid = False
        return valid

    def _valid(self, name: str) -> Any:
        # The live count runs on a half-typed form too: a value that failed validation (a day
        # count or date out of range, an id no row can have) is left out rather than queried.
        field = self[name]
        return None if field.errors else field.data

    def to_condition(self) -> AppointmentCondition:
        """The typed condition (fields that do not apply to the period, or are invalid, are dropped)."""
        period = self.period.data or "any"
        days = self._valid("days") if period in ("last_days", "next_days") else None
        start = self._valid("start") if period in ("between", "since", "before") else None
        end = self._valid("end") if period == "between" else None
        return AppointmentCondition(
            has=self.presence.data != "has_no",
            period=Period(kind=period, days=days, start=start, end=end),
            appointment_type_ids=tuple(self._valid("appointment_types") or ()),
            practitioner_ids=tuple(self._valid("practitioners") or ()),
            business_ids=tuple(self._valid("businesses") or ()),
            outcomes=tuple(o for o in self.outcomes.data or () if o in OUTCOMES),
        )


def condition_data(condition: AppointmentCondition) -> dict[str, Any]:
    """A condition as the sub-form's data."""
    period = condition.period
    return {
        "presence": "has" if condition.has else "has_no",
        "period": period.kind,
        "days": period.days,
        "start": period.start,
        "end": period.end,
        "appointment_types": list(condition.appointment_type_ids),
        "practitioners": list(condition.practitioner_ids),
        "businesses": list(condition.business_ids),
        "outcomes": list(condition.outcomes),
    }


class CampaignForm(FlaskForm):
    """Name, audience and message of one campaign (its channel is chosen when it is created)."""

    name = StringField(
        "Name (staff only)", validators=[InputRequired("Give the campaign a name."), Length(max=255)]
    )
    channel = SelectField("Channel", choices=choices([("email", "E-mail"), ("sms", "SMS")]), default="email")
    conditions = FieldList(FormField(AppointmentConditionForm), max_entries=MAX_CONDITIONS)
    email_statuses = MultiCheckboxField(
        "E-mail status", choices=choices(STATUS_CHOICES), validate_choice=False
    )
    sms_statuses = MultiCheckboxField("SMS status", choices=choices(STATUS_CHOICES), validate_choice=False)
    has_email = SelectField("Has an e-mail address", choices=choices(YES_NO_ANY), default="")
    has_phone = SelectField("Has a phone number", choices=choices(YES_NO_ANY), default="")
    post_codes = StringField(
        "Postcodes", validators=[Optional(), Length(max=500)], render_kw={"placeholder": "3182, 3183"}
    )
    suburbs = StringField(
        "Suburbs", validators=[Optional(), Length(max=500)], render_kw={"placeholder": "St Kilda, Elwood"}
    )
    email_subject = StringField(
        "Subject",
        default=DEFAULT_SUBJECT,
        validators=[Length(max=300), valid_template("Subject", template_problems)],
    )
    email_body = TextAreaField(
        "E-mail",
        default=DEFAULT_EMAIL,
        render_kw={"rows": 12},
        validators=[Length(max=20_000), valid_template("E-mail", email_body_problems)],
    )
    sms_body = TextAreaField(
        "SMS",
        default=DEFAULT_SMS,
        render_kw={"rows": 4},
        validators=[Length(max=MAX_SMS_TEMPLATE), valid_template("SMS", template_problems)],
    )
    # Not saved: who the preview and the test use.
    preview_contact = SelectField("Preview with", coerce=int, validate_choice=False, default=0,
                                  validators=[valid_ids])
    test_email = EmailField("Test e-mail to", validators=[Optional(), Email("Enter a valid e-mail address.")])
    test_phone = StringField(
        "Test SMS to", validators=[Optional(), Length(max=40)], render_kw={"placeholder": "0412 345 678"}
    )

    def set_choices(
        self,
        types: list[tuple[int, str]],
        practitioners: list[tuple[int, str]],
        businesses: list[tuple[int, str]],
        contacts: list[tuple[int, str]],
    ) -> None:
        """Fill each condition's lists from Cliniko's, and the preview list from the audience sample."""
        for entry in self.conditions.entries:
            entry.form.appointment_types.choices = choices(types)
            entry.form.practitioners.choices = choices(practitioners)
            entry.form.businesses.choices = choices(businesses)
        self.preview_contact.choices = choices([(0, "Sample data (Olivia Example)"), *contacts])

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, plus the message the channel needs."""
        valid = super().validate(extra_validators)
        if self.channel.data == "email":
            if not (self.email_subject.data or "").strip():
                self.email_subject.errors = [*self.email_subject.errors, "Enter a subject for the e-mail."]
                valid = False
            if not (self.email_body.data or "").strip():
                self.email_body.errors = [*self.email_body.errors, "Write the e-mail."]
                valid = False
        elif not (self.sms_body.data or "").strip():
            self.sms_body.errors = [*self.sms_body.errors, "Write the SMS."]
            valid = False
        return valid

    def to_audience(self) -> Audience:
        """The typed audience from the editor's values."""
        return Audience(
            appointments=tuple(entry.form.to_condition() for entry in self.conditions.entries),
            contact=ContactConditions(
                email_statuses=tuple(self.email_statuses.data or ()),
                sms_statuses=tuple(self.sms_statuses.data or ()),
                has_email=_flag(self.has_email.data),
                has_phone=_flag(self.has_phone.data),
                post_codes=_list(self.post_codes.data),
                suburbs=_list(self.suburbs.data),
            ),
        )

    def to_data(self) -> CampaignData:
        """What to save."""
        return CampaignData(
            name=self.name.data or "",
            channel=self.channel.data or "email",
            audience=self.to_audience(),
            email_subject=self.email_subject.data or "",
            email_body=self.email_body.data or "",
            sms_body=self.sms_body.data or "",
        )

    @staticmethod
    def data_for(
        name: str,
        channel: str,
        audience: Audience,
        *,
        email_subject: str = DEFAULT_SUBJECT,
        email_body: str = DEFAULT_EMAIL,
        sms_body: str = DEFAULT_SMS,
        **extra: Any,
    ) -> dict[str, Any]:
        """The form's data for a campaign (saved, or being edited with conditions added or removed)."""
        contact = audience.contact
        return {
            "name": name,
            "channel": channel,
            "conditions": [condition_data(c) for c in audience.appointments],
            "email_statuses": list(contact.email_statuses),
            "sms_statuses": list(contact.sms_statuses),
            "has_email": _flag_value(contact.has_email),
            "has_phone": _flag_value(contact.has_phone),
            "post_codes": ", ".join(contact.post_codes),
            "suburbs": ", ".join(contact.suburbs),
            "email_subject": email_subject,
            "email_body": email_body,
            "sms_body": sms_body,
            **extra,
        }

    @classmethod
    def for_campaign(cls, campaign: Campaign) -> CampaignForm:
        """The form filled from a saved campaign."""
        return cls(
            formdata=None,
            data=cls.data_for(
                campaign.name,
                campaign.channel,
                Audience.from_json(campaign.audience),
                email_subject=campaign.email_subject,
                email_body=campaign.email_body,
                sms_body=campaign.sms_body,
            ),
        )


class ScheduleForm(FlaskForm):
    """Send later: a day and time in the clinic's time zone."""

    send_date = DateField("Day", validators=[InputRequired("Choose the day."), calendar_date])
    send_time = TimeField("Time", validators=[InputRequired("Choose the time.")])

    def moment(self, time_zone: str) -> datetime:
        """The chosen local day and time as a UTC moment."""
        day, at = self.send_date.data, self.send_time.data
        if day is None or at is None:  # InputRequired: validate() refuses a form without both
            raise TypeError("moment() needs a validated form with a day and a time")
        return datetime.combine(day, at, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)
