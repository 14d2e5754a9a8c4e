"""The ranges input may take before it reaches the database or date arithmetic.

One owner for every area: the route converter, the form validators and the query-string
readers all use these, so an id, number or date from outside is refused with a plain message
(400/404/422) rather than overflowing a driver or `datetime` (500).
"""

from __future__ import annotations

from datetime import date

# Every id is a database integer or a Cliniko 64-bit id.
MAX_ID = 2**63 - 1
# Calendar days staff can mean: far enough back for birth dates and old appointments, and far
# enough ahead for any schedule, with room for time-zone arithmetic at both ends.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def is_id(value: int | None, *, allow_zero: bool = False) -> bool:
    """Whether an integer can be a row id (0 too, where a form uses it for "none")."""
    return value is not None and (0 if allow_zero else 1) <= value <= MAX_ID


def in_calendar(value: date | None) -> bool:
    """Whether a date is one staff could mean (None: not given, which is fine here)."""
    return value is None or EARLIEST_DATE <= value <= LATEST_DATE

