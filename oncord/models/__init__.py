"""All models, imported here so Alembic and the app see the whole schema."""

from oncord.models.activity import ActivityEvent, ActivityKind
from oncord.models.appointments import Appointment, AppointmentType, Business, Practitioner
from oncord.models.cliniko_connection import ClinikoConnection, SyncCursor
from oncord.models.contacts import ConsentChange, ConsentSource, Contact, MarketingStatus
from oncord.models.patient_changes import ChangeStatus, PatientChange
from oncord.models.sync_runs import SyncRun, SyncRunStatus
from oncord.models.users import Role, User

__all__ = [
    "ActivityEvent",
    "ActivityKind",
    "Appointment",
    "AppointmentType",
    "Business",
    "ChangeStatus",
    "ClinikoConnection",
    "ConsentChange",
    "ConsentSource",
    "Contact",
    "MarketingStatus",
    "PatientChange",
    "Practitioner",
    "Role",
    "SyncCursor",
    "SyncRun",
    "SyncRunStatus",
    "User",
]
