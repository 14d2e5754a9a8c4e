"""WTForms classes for every form staff fill in (CSRF via Flask-WTF)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# types-WTForms' stubs predate WTForms 3.3, which added SelectChoice (the installed version has it).
from wtforms import SelectChoice  # type: ignore[attr-defined]


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """SelectField options from (value, label) pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]
