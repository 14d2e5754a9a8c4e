"""The automation editor and the messaging settings form."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError

from oncord.automations.editing import AutomationData
from oncord.automations.triggers import TRIGGERS, Option, TriggerDef, trigger_def
from oncord.forms import choices
from oncord.forms.fields import MultiCheckboxField, valid_ids, valid_template
from oncord.messaging.quiet_hours import CHANNELS, DEFAULTS, format_hhmm, parse_hhmm
from oncord.messaging.templates import check_email_body
from oncord.models import Automation, Trigger

TRIGGER_CHOICES = [(key, entry.choice) for key, entry in TRIGGERS.items()]
UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 24 * 60}
UNIT_CHOICES = [("hours", "hours"), ("days", "days"), ("minutes", "minutes")]
KIND_CHOICES = [
    ("marketing", "Marketing: only contacts Subscribed on the channel"),
    ("service", "Service message (appointment reminder): also contacts whose consent is Pending, "
                "never Unsubscribed"),
]
MAX_OFFSET_MINUTES = 60 * 24 * 60
MAX_SMS_TEMPLATE = 1000

# A new automation starts as a reminder.
FIRST_TRIGGER = Trigger.UPCOMING.value
_FIRST = trigger_def(FIRST_TRIGGER).defaults


def default_timing(minutes: int) -> tuple[int, str]:
    """A default offset as staff would type it: 1440 -> (24, "hours"), 2880 -> (2, "days")."""
    if minutes % 60 == 0 and minutes < 48 * 60:
        return minutes // 60, "hours"
    return split_offset(minutes)


def split_offset(minutes: int) -> tuple[int, str]:
    """1440 -> (1, "days"), 120 -> (2, "hours"), 90 -> (90, "minutes")."""
    if minutes and minutes % (24 * 60) == 0:
        return minutes // (24 * 60), "days"
    if minutes % 60 == 0:
        return minutes // 60, "hours"
    return minutes, "minutes"


_FIRST_TIMING = default_timing(_FIRST.offset_minutes)


class AutomationForm(FlaskForm):
    """Trigger, timing, filters, channels and templates of one automation."""

    name = StringField("Name", validators=[InputRequired("Give the automation a name."), Length(max=255)])
    enabled = BooleanField("On: send messages as appointments qualify")
    trigger = SelectField("When", choices=choices(TRIGGER_CHOICES))
    # The trigger whose defaults the untouched fields still hold; switching the trigger replaces them.
    defaults_for = HiddenField(default=FIRST_TRIGGER)
    timing_amount = IntegerField(
        "How long", default=_FIRST_TIMING[0], render_kw={"min": 0, "max": 1000},
        validators=[Optional(), NumberRange(min=0, max=1000, message="Enter a number from 0 to 1000.")],
    )
    timing_unit = SelectField("Unit", choices=choices(UNIT_CHOICES), default=_FIRST_TIMING[1])
    require_arrived = BooleanField("Only appointments marked arrived")
    online_only = BooleanField("Online bookings only")
    send_when_booked_late = BooleanField(
        "If an appointment is booked after its reminder time, send the reminder at once", default=True
    )
    skip_cliniko_reminded = BooleanField(
        "Skip patients Cliniko already reminds (their reminder type in Cliniko)"
    )
    message_kind = RadioField("Kind of message", choices=choices(KIND_CHOICES), default="marketing")
    appointment_types = MultiCheckboxField("Appointment types", coerce=int, validate_choice=False,
                                           validators=[valid_ids])
    practitioners = MultiCheckboxField("Practitioners", coerce=int, validate_choice=False,
                                       validators=[valid_ids])
    send_email = BooleanField("Send an e-mail", default=True)
    email_subject = StringField("Subject", default=_FIRST.email_subject,
                                validators=[Length(max=300), valid_template("Subject")])
    email_body = TextAreaField("E-mail", default=_FIRST.email_body,
                               validators=[Length(max=20_000), valid_template("E-mail", check_email_body)],
                               render_kw={"rows": 10})
    send_sms = BooleanField("Send an SMS")
    sms_body = TextAreaField("SMS", default=_FIRST.sms_body,
                             validators=[Length(max=MAX_SMS_TEMPLATE), valid_template("SMS")],
                             render_kw={"rows": 4})
    # Not saved: who the preview and the test use.
    preview_contact = SelectField("Preview with", coerce=int, validate_choice=False, default=0,
                                  validators=[valid_ids])
    test_email = EmailField("Test e-mail to", validators=[Optional(), Email("Enter a valid e-mail address.")])
    test_phone = StringField("Test SMS to", validators=[Optional(), Length(max=40)],
                             render_kw={"placeholder": "0412 345 678"})

    def set_choices(self, appointment_types: list[tuple[int, str]], practitioners: list[tuple[int, str]],
                    contacts: list[tuple[int, str]]) -> None:
        """Fill the filter and preview lists from Cliniko's lists and the contacts."""
        self.appointment_types.choices = choices(appointment_types)
        self.practitioners.choices = choices(practitioners)
        self.preview_contact.choices = choices([(0, "Sample data (Olivia Example)"), *contacts])

    @classmethod
    def for_automation(cls, automation: Automation) -> AutomationForm:
        """The form filled from a saved automation."""
        amount, unit = split_offset(automation.offset_minutes)
        return cls(
            data={
                "name": automation.name, "enabled": automation.enabled, "trigger": automation.trigger,
                "defaults_for": automation.trigger,
                "timing_amount": amount, "timing_unit": unit, "require_arrived": automation.require_arrived,
                "online_only": automation.online_only,
                "send_when_booked_late": automation.send_when_booked_late,
                "skip_cliniko_reminded": automation.skip_cliniko_reminded,
                "message_kind": "service" if automation.is_service else "marketing",
                "appointment_types": [t.id for t in automation.appointment_types],
                "practitioners": [p.id for p in automation.practitioners],
                "send_email": automation.send_email, "email_subject": automation.email_subject,
                "email_body": automation.email_body, "send_sms": automation.send_sms,
                "sms_body": automation.sms_body,
            }
        )

    @property
    def trigger_entry(self) -> TriggerDef:
        """The registry entry of the chosen trigger."""
        return trigger_def(self.trigger.data if self.trigger.data in TRIGGERS else FIRST_TRIGGER)

    def switch_trigger(self) -> None:
        """Replace what still holds the previous trigger's defaults with the chosen trigger's.

        What staff changed stays. Browsers send a textarea's line breaks as CRLF, so text is
        compared with them normalised.
        """
        old = trigger_def(self.defaults_for.data if self.defaults_for.data in TRIGGERS else FIRST_TRIGGER)
        new = self.trigger_entry
        self.defaults_for.data = new.key.value
        if old is new:
            return
        for field, before, after in (
            (self.email_subject, old.defaults.email_subject, new.defaults.email_subject),
            (self.email_body, old.defaults.email_body, new.defaults.email_body),
            (self.sms_body, old.defaults.sms_body, new.defaults.sms_body),
        ):
            if _same_text(field.data, before):
                _set(field, after)
        if self.offset_minutes() == old.defaults.offset_minutes:
            amount, unit = default_timing(new.defaults.offset_minutes)
            _set(self.timing_amount, amount)
            _set(self.timing_unit, unit)
        if Option.SERVICE not in new.options:
            _set(self.message_kind, "marketing")

    def offset_minutes(self) -> int:
        """The timing in minutes."""
        # The preview runs on an invalid form too: an amount out of range counts as none.
        amount = 0 if self.timing_amount.errors else (self.timing_amount.data or 0)
        return amount * UNIT_MINUTES.get(self.timing_unit.data or "hours", 60)

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks plus the rules that span fields."""
        valid = super().validate(extra_validators)
        if not self.send_email.data and not self.send_sms.data:
            self.form_errors.append("Choose at least one channel: e-mail, SMS or both.")
            valid = False
        if self.send_email.data:
            if not (self.email_subject.data or "").strip():
                self.email_subject.errors = [*self.email_subject.errors, "Enter a subject for the e-mail."]
                valid = False
            if not (self.email_body.data or "").strip():
                self.email_body.errors = [*self.email_body.errors, "Write the e-mail."]
                valid = False
        if self.send_sms.data and not (self.sms_body.data or "").strip():
            self.sms_body.errors = [*self.sms_body.errors, "Write the SMS."]
            valid = False
        minutes = self.offset_minutes()
        entry = self.trigger_entry
        if minutes < entry.min_offset_minutes:
            self.timing_amount.errors = [*self.timing_amount.errors, entry.min_offset_message]
            valid = False
        if minutes > MAX_OFFSET_MINUTES:
            self.timing_amount.errors = [*self.timing_amount.errors, "Choose at most 60 days."]
            valid = False
        if self.message_kind.data == "service" and Option.SERVICE not in entry.options:
            self.message_kind.errors = [
                *self.message_kind.errors,
                "Only appointment reminders can be service messages; follow-ups are marketing and go "
                "to Subscribed contacts only.",
            ]
            valid = False
        return valid

    def to_data(self) -> AutomationData:
        """What to save."""
        return AutomationData(
            name=self.name.data or "",
            enabled=bool(self.enabled.data),
            trigger=self.trigger_entry.key.value,
            offset_minutes=self.offset_minutes(),
            require_arrived=bool(self.require_arrived.data),
            online_only=bool(self.online_only.data),
            send_when_booked_late=bool(self.send_when_booked_late.data),
            skip_cliniko_reminded=bool(self.skip_cliniko_reminded.data),
            is_service=self.message_kind.data == "service",
            appointment_type_ids=list(self.appointment_types.data or []),
            practitioner_ids=list(self.practitioners.data or []),
            send_email=bool(self.send_email.data),
            email_subject=self.email_subject.data or "",
            email_body=self.email_body.data or "",
            send_sms=bool(self.send_sms.data),
            sms_body=self.sms_body.data or "",
        )


def _same_text(value: str | None, default: str) -> bool:
    return (value or "").replace("\r\n", "\n").strip() == default.strip()


def _set(field: Any, value: Any) -> None:
    # Number fields render what was typed (raw_data) before their data.
    field.data = value
    field.raw_data = [str(value)]


class ToggleForm(FlaskForm):
    """The on/off switch of the list."""

    enabled = BooleanField("On")


def _hhmm(_form: FlaskForm, field: Any) -> None:
    if field.data:
        try:
            parse_hhmm(field.data)
        except ValueError as exc:
            raise ValidationError("Enter a time like 20:00.") from exc


_EMAIL = Email("Enter a valid e-mail address.")


class MessagingSettingsForm(FlaskForm):
    """Who messages come from, and when each channel stays quiet."""

    sender_name = StringField("Sender name", validators=[Optional(), Length(max=255)],
                              render_kw={"placeholder": "Sunnyside Physio"})
    sender_email = EmailField("Sender e-mail address", validators=[Optional(), _EMAIL, Length(max=255)])
    reply_to_email = EmailField("Replies go to (optional)", validators=[Optional(), _EMAIL, Length(max=255)])
    sender_details = TextAreaField(
        "Clinic details in every e-mail footer", validators=[Optional(), Length(max=1000)],
        render_kw={"rows": 3, "placeholder": "12 Beach Road, St Kilda VIC 3182\n03 9000 0000"},
    )
    # Real values, not placeholders: a clinic that never set them gets the defaults, shown as such.
    email_quiet_on = BooleanField("Quiet hours for e-mails")
    email_quiet_start = StringField("No e-mails from", validators=[Optional(), _hhmm],
                                    render_kw={"inputmode": "numeric"})
    email_quiet_end = StringField("until", validators=[Optional(), _hhmm], render_kw={"inputmode": "numeric"})
    sms_quiet_on = BooleanField("Quiet hours for SMS")
    sms_quiet_start = StringField("No SMS from", validators=[Optional(), _hhmm],
                                  render_kw={"inputmode": "numeric"})
    sms_quiet_end = StringField("until", validators=[Optional(), _hhmm], render_kw={"inputmode": "numeric"})
    frequency_cap_messages = IntegerField(
        "At most this many marketing messages per contact", validators=[Optional(), NumberRange(1, 100)],
        render_kw={"placeholder": "3", "inputmode": "numeric"},
    )
    frequency_cap_days = IntegerField(
        "in any this many days (empty: no cap)", validators=[Optional(), NumberRange(1, 365)],
        render_kw={"placeholder": "7", "inputmode": "numeric"},
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """Sender name and address go together; quiet hours that are on need both ends."""
        valid = super().validate(extra_validators)
        if bool(self.sender_name.data) != bool(self.sender_email.data):
            target = self.sender_email if self.sender_name.data else self.sender_name
            target.errors = [*target.errors, "E-mails need both a sender name and a sender address."]
            valid = False
        for channel in ("email", "sms"):
            start, end = getattr(self, f"{channel}_quiet_start"), getattr(self, f"{channel}_quiet_end")
            if not getattr(self, f"{channel}_quiet_on").data:
                continue
            for missing in (start, end):
                if not missing.data:
                    missing.errors = [*missing.errors,
                                      "Enter both times, or untick quiet hours to send at any time."]
                    valid = False
            if start.data and end.data and not start.errors and not end.errors \
                    and parse_hhmm(start.data) == parse_hhmm(end.data):
                end.errors = [*end.errors, "The end must differ from the start."]
                valid = False
        messages, days = self.frequency_cap_messages, self.frequency_cap_days
        if (messages.data is None) != (days.data is None):
            missing = days if messages.data is not None else messages
            missing.errors = [*missing.errors, "Enter both numbers, or neither for no frequency cap."]
            valid = False
        return valid

    @staticmethod
    def quiet_data(row: Any) -> dict[str, Any]:
        """The quiet hours as form values: the stored ones, else the defaults, and whether each is on."""
        data: dict[str, Any] = {}
        for channel in CHANNELS:
            start, end = getattr(row, f"{channel}_quiet_start"), getattr(row, f"{channel}_quiet_end")
            if start is None or end is None:
                start, end = DEFAULTS[channel].start, DEFAULTS[channel].end
            data[f"{channel}_quiet_on"] = not getattr(row, f"{channel}_quiet_off")
            data[f"{channel}_quiet_start"] = format_hhmm(start)
            data[f"{channel}_quiet_end"] = format_hhmm(end)
        return data
