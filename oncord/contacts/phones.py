"""A contact's phone number: kept as typed (or as Cliniko sent it), with its E.164 form and
whether it is a mobile beside it, so the audience count and SMS sending need not parse it."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

# FIXED_LINE_OR_MOBILE: some countries (e.g. the US) cannot tell the two apart from the number.
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
_REGIONS = phonenumbers.SUPPORTED_REGIONS


@dataclass(frozen=True)
class ParsedPhone:
    """A valid number in E.164 (+61491573820) and whether it can receive SMS."""

    e164: str
    is_mobile: bool


def phone_region(country_code: str | None, default: str) -> str:
    """The region a number without a leading + is read in: the contact's country, else `default`."""
    code = (country_code or "").strip().upper()
    return code if code in _REGIONS else default


def parse_phone(raw: str | None, region: str) -> ParsedPhone | None:
    """The number as E.164 with its mobile flag, or None when it is blank or not a valid number."""
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return ParsedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        is_mobile=phonenumbers.number_type(number) in _MOBILE_TYPES,
    )


def phone_columns(raw: str | None, region: str) -> dict[str, object]:
    """The derived columns stored beside `phone`: `phone_e164` and `phone_is_mobile`."""
    parsed = parse_phone(raw, region)
    return {
        "phone_e164": parsed.e164 if parsed else None,
        "phone_is_mobile": bool(parsed and parsed.is_mobile),
    }


def same_phone(old: str | None, new: str | None, region: str) -> bool:
    """Whether two entries are one number: equal E.164 forms (or equal text when unparseable)."""
    old_parsed, new_parsed = parse_phone(old, region), parse_phone(new, region)
    if old_parsed and new_parsed:
        return old_parsed.e164 == new_parsed.e164
    return (old or "").strip() == (new or "").strip()
