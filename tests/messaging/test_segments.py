"""SMS segment counting: GSM-7 (160, then 153 per part) and UCS-2 (70, then 67)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from oncord.messaging.sms_segments import GSM7_BASIC, GSM7_EXTENDED, count_segments


def test_gsm7_boundaries() -> None:
    """160 plain characters are one segment; 161 are two; 306 two; 307 three."""
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3
    assert count_segments("").segments == 0


def test_extension_characters_count_twice_and_never_split() -> None:
    """€ and [ cost two septets; an escape pair is not split across parts."""
    assert count_segments("€" * 80).units == 160 and count_segments("€" * 80).segments == 1
    assert count_segments("a" * 159 + "€").segments == 2  # 161 septets
    # 306 septets fill two parts exactly only if the escape pair is split; it is not, so three.
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3


def test_ucs2_boundaries_and_surrogates() -> None:
    """Any non-GSM character switches to UCS-2; emoji take two code units."""
    assert count_segments("ā" * 70).segments == 1 and count_segments("ā" * 70).encoding == "UCS-2"
    assert count_segments("ā" * 71).segments == 2
    assert count_segments("😀" * 35).units == 70 and count_segments("😀" * 35).segments == 1
    assert count_segments("😀" * 34 + "ā" * 2).segments == 1
    assert count_segments("a" * 67 + "😀" + "a").segments == 1  # 70 code units
    # 134 units fill two parts exactly only if the surrogate pair is split; it is not, so three.
    assert count_segments("a" * 66 + "😀" + "a" * 66).segments == 3


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENDED), max_size=700))
def test_gsm7_segments_are_within_one_of_the_ideal(text: str) -> None:
    """Whole characters per part never cost more than one extra part over perfect packing."""
    result = count_segments(text)
    assert result.encoding == "GSM-7"
    ideal = 0 if not text else (1 if result.units <= 160 else math.ceil(result.units / 153))
    assert ideal <= result.segments <= ideal + 1
