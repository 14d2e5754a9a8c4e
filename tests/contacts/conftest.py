"""The consent tests' app: the messaging app (Twilio's signed webhook works) on an empty Cliniko sandbox."""

from __future__ import annotations

from tests.fixtures.empty_sandbox import (  # noqa: F401 (fixtures)
    connected,
    make_patient,
    owner,
    pull,
    push,
    reception,
    sandbox,
)
from tests.web.conftest import admin, admin_client, log_in, staff, staff_client  # noqa: F401 (fixtures)
