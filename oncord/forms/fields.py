"""Fields and validators the automation and campaign editors share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

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
