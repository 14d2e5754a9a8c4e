"""Merge-field templates: sandboxed, escaped in HTML, checked before saving."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncord.messaging.templates import (
    TemplateProblem,
    check_template,
    format_start,
    merge_data,
    render_email,
    render_text,
)

DATA = merge_data(
    first_name="<b>Bo</b> & Co",
    last_name="Smith",
    starts_at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC),
    time_zone="Australia/Melbourne",
    appointment_type="Massage",
    practitioner="Dr Ng",
    business="Sunnyside",
    book_now_url="https://sunnyside.au1.cliniko.com/bookings",
)


def test_start_is_shown_in_the_clinics_zone_with_daylight_saving() -> None:
    """22:30 UTC on 1 March is 9:30 am on 2 March in Melbourne (UTC+11 then)."""
    assert format_start(datetime(2026, 3, 1, 22, 30, tzinfo=UTC), "Australia/Melbourne") == {
        "appointment_start": "Monday 2 March at 9:30 am",
        "appointment_date": "Monday 2 March",
        "appointment_time": "9:30 am",
    }
    assert (
        format_start(datetime(2026, 3, 1, 22, 30, tzinfo=UTC), "Australia/Perth")["appointment_time"]
        == "6:30 am"
    )


def test_text_is_not_escaped_but_html_is() -> None:
    """The SMS and text part show the name as typed; the HTML part escapes it and links the URL."""
    assert render_text("Hi {{ first_name }}", DATA) == "Hi <b>Bo</b> & Co"
    email = render_email(
        "For {{ first_name }}",
        "Hi {{ first_name }}\n\nBook: {{ book_now_url }}",
        DATA,
        sender_name="Sunnyside",
        footer=["Sunnyside", "12 Beach Rd"],
        unsubscribe_url="https://x.example/u/abc",
    )
    assert "&lt;b&gt;Bo&lt;/b&gt; &amp; Co" in email.html and "<b>Bo</b>" not in email.html
    assert '<a href="https://sunnyside.au1.cliniko.com/bookings">' in email.html
    assert email.subject == "For <b>Bo</b> & Co"
    assert email.text.endswith(
        "12 Beach Rd\nUnsubscribe from e-mails from Sunnyside: https://x.example/u/abc\n"
    )


def test_check_finds_unknown_fields_and_syntax_errors() -> None:
    """Typos are caught when saving, with what to do."""
    assert check_template("Hi {{ first_name }} {{ appointment_start }}") == []
    assert "Unknown merge field {{ firstname }}" in check_template("Hi {{ firstname }}")[0]
    assert check_template("Hi {{ first_name")[0].startswith("Line 1:")


@pytest.mark.parametrize(
    "source",
    ["{{ first_name.__class__.__mro__ }}", "{{ ''.__class__ }}", "{{ first_name.format.__globals__ }}"],
)
def test_the_sandbox_blocks_python_internals(source: str) -> None:
    """A template cannot reach Python objects behind the values."""
    with pytest.raises(TemplateProblem):
        render_text(source, DATA)
