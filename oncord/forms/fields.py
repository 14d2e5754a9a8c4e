"""Fields and validators the automation and campaign editors share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from oncord.bounds import EARLIEST_DATE, LATEST_DATE, in_calendar, is_id
from oncord.messaging.templates import check_template


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def valid_template(
    label: str, problems_of: Callable[[str], list[str]] = check_template
) -> Callable[[Any, Any], None]:
    """A validator rejecting a message template with the first problem `problems_of` finds in it."""

    def check(_form: Any, field: Any) -> None:
        problems = problems_of(field.data or "")
        if problems:
            raise ValidationError(f"{label}: {problems[0]}")

    return check


def valid_ids(form: Any, field: Any) -> None:
    """A choice of rows (one id or a list) holds only ids; 0 means "none" where a form offers it."""
    values = field.data if isinstance(field.data, list) else [field.data]
    if not all(is_id(value, allow_zero=True) for value in values if value is not None):
        raise ValidationError("That choice is not on the list any more. Reload the page and choose again.")


def calendar_date(form: Any, field: Any) -> None:
    """A day staff could mean (years 1900 to 2999), not one that breaks date arithmetic."""
    if not in_calendar(field.data):
        raise ValidationError(
            f"Choose a date between {EARLIEST_DATE:%d/%m/%Y} and {LATEST_DATE:%d/%m/%Y}."
        )
