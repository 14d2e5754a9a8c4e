"""19-digit Cliniko-style ids derived from a record's position, and back."""

from __future__ import annotations

from dataclasses import dataclass

_STRIDE = 1 << 20
_MAX_ID_DIGITS = 20


@dataclass(frozen=True)
class IdCodec:
    """Maps record index i to a 64-bit id that grows with i, so ids keep creation order."""

    base: int
    salt: int = 0

    def _jitter(self, index: int) -> int:
        # A cheap multiplicative hash makes ids look irregular while staying invertible.
        return ((index + 1) * 2_654_435_761 + self.salt * 40_503) % _STRIDE

    def encode(self, index: int) -> int:
        """Return the id of the record at `index`."""
        return self.base + index * _STRIDE + self._jitter(index)

    def decode(self, value: int) -> int | None:
        """Return the index whose id is `value`, or None when no index has that id."""
        index, rest = divmod(value - self.base, _STRIDE)
        if index < 0 or rest != self._jitter(index):
            return None
        return index

    def count_at_most(self, value: int) -> int:
        """Return how many indices have an id <= `value` (ids grow with the index)."""
        index = (value - self.base) // _STRIDE
        if index < 0:
            return 0
        return index + 1 if self.encode(index) <= value else index


def parse_id(text: object) -> int | None:
    """Parse an id string (digits only) into an int, or None when it is not one."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if text >= 0 else None
    if not isinstance(text, str) or not 0 < len(text) <= _MAX_ID_DIGITS:
        return None
    if not text.isascii() or not text.isdigit():
        return None
    return int(text)


# Distinct bases 10^14 apart keep every kind's ids at 19 digits and never overlapping.
USER_BASE = 1_388_412_907_551_203_840
BUSINESS_BASE = 1_388_509_117_203_681_280
PRACTITIONER_BASE = 1_388_601_555_862_937_600
APPOINTMENT_TYPE_BASE = 1_388_702_248_119_541_760
PATIENT_BASE = 1_389_004_381_927_014_400
APPOINTMENT_BASE = 1_390_107_662_845_091_840
GROUP_APPOINTMENT_BASE = 1_390_208_113_575_505_920
ATTENDEE_BASE = 1_390_309_770_123_460_608
CONCESSION_TYPE_BASE = 1_387_300_118_402_277_376
CONTACT_BASE = 1_387_411_092_660_318_208
TEMPLATE_BASE = 1_387_520_663_004_774_400
ACCOUNT_ID = "1387100225993580544"
