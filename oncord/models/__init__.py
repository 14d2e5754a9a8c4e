"""All models, imported here so Alembic and the app see the whole schema."""

from oncord.models.activity import ActivityEvent, ActivityKind
from oncord.models.appointments import (
    Appointment,
    AppointmentKind,
    AppointmentType,
    Business,
    GroupAppointment,
    Practitioner,
)
from oncord.models.attribution import AttributionKind, BookingAttribution, BookingClick
from oncord.models.automations import Automation, AutomationSend, Backfill, Channel, SendState, Trigger
from oncord.models.campaigns import Campaign, CampaignRecipient, CampaignState, RecipientState
from oncord.models.cliniko_connection import ClinikoConnection, SyncCursor
from oncord.models.contacts import (
    SELF_UNSUBSCRIBE_SOURCES,
    ConsentChange,
    ConsentSource,
    Contact,
    LedgerIsAppendOnly,
    MarketingStatus,
)
from oncord.models.feedback import FeedbackResponse
from oncord.models.journeys import EnrolmentState, JourneyEnrolment, JourneyStepRun, JourneyVersion
from oncord.models.messaging import FrequencySlot, MessagingSettings, OutboxMessage
from oncord.models.pages import ClinicLogo, ClinicSettings, Page
from oncord.models.patient_changes import ChangeStatus, PatientChange
from oncord.models.sync_runs import SyncRun, SyncRunStatus
from oncord.models.users import Role, StaffSession, User

__all__ = [
    "ActivityEvent",
    "ActivityKind",
    "Appointment",
    "AppointmentKind",
    "AppointmentType",
    "Automation",
    "AttributionKind",
    "AutomationSend",
    "BookingAttribution",
    "BookingClick",
    "Business",
    "Campaign",
    "CampaignRecipient",
    "CampaignState",
    "ChangeStatus",
    "Backfill",
    "Channel",
    "ClinicLogo",
    "ClinicSettings",
    "ClinikoConnection",
    "ConsentChange",
    "LedgerIsAppendOnly",
    "SELF_UNSUBSCRIBE_SOURCES",
    "ConsentSource",
    "Contact",
    "EnrolmentState",
    "JourneyEnrolment",
    "JourneyStepRun",
    "JourneyVersion",
    "MarketingStatus",
    "FeedbackResponse",
    "FrequencySlot",
    "GroupAppointment",
    "MessagingSettings",
    "OutboxMessage",
    "Page",
    "PatientChange",
    "Practitioner",
    "RecipientState",
    "Role",
    "StaffSession",
    "SendState",
    "SyncCursor",
    "SyncRun",
    "SyncRunStatus",
    "Trigger",
    "User",
]
