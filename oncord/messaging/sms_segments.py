"""How many SMS segments a text costs: GSM-7 (160/153 septets) or UCS-2 (70/67 code units)."""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 default alphabet (the escape character 0x1B is not a printable member).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs an escape plus the character, two septets.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SegmentCount:
    """The encoding a phone will use, the number of segments, and the text's length in units."""

    encoding: str
    segments: int
    units: int

    @property
    def label(self) -> str:
        """For the editor: "2 SMS segments (GSM-7, 170 characters)"."""
        plural = "s" if self.segments != 1 else ""
        return f"{self.segments} SMS segment{plural} ({self.encoding}, {self.units} characters)"


def is_gsm7(text: str) -> bool:
    """Whether every character is in the GSM-7 alphabet or its extension table."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def _pack(costs: list[int], single: int, part: int) -> int:
    # A character (an escape pair, a surrogate pair) never straddles two parts.
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments += 1
            used = 0
        used += cost
    return segments


def count_segments(text: str) -> SegmentCount:
    """Segments for a text as networks split it."""
    if is_gsm7(text):
        costs = [2 if c in GSM7_EXTENDED else 1 for c in text]
        return SegmentCount("GSM-7", _pack(costs, GSM7_SINGLE, GSM7_PART), sum(costs))
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SegmentCount("UCS-2", _pack(costs, UCS2_SINGLE, UCS2_PART), sum(costs))
