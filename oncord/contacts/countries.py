"""Countries by ISO 3166-1 alpha-2 code, with names from pycountry (the ISO tables Debian keeps)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pycountry


@cache
def country_choices() -> tuple[tuple[str, str], ...]:
    """(code, name) for every country, sorted by name, for the edit form's list."""
    return tuple(sorted(((c.alpha_2, _name(c)) for c in pycountry.countries), key=lambda pair: pair[1]))


def country_name(code: str | None) -> str | None:
    """The country's name for a code (None for a blank or unknown one)."""
    if not code:
        return None
    country = pycountry.countries.get(alpha_2=code.strip().upper())
    return _name(country) if country is not None else None


def code_for_country(text: str | None) -> str | None:
    """The code Cliniko's legacy free-text `country` names ("Australia", "NZ", "aus"), else None."""
    if not text or not text.strip():
        return None
    try:
        return str(pycountry.countries.lookup(text.strip()).alpha_2)
    except LookupError:
        return None


def _name(country: Any) -> str:
    # common_name ("Bolivia") reads better than the formal name ("Bolivia, Plurinational State of").
    return str(getattr(country, "common_name", None) or country.name)
