"""Merge-field templates: sandboxed, escaped in HTML, checked before saving."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncord.messaging.errors import MessageProblem
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
    assert '<a href="https://sunnyside.au1.cliniko.com/bookings" style=' in email.html
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


BOMBS = {
    "nested loops": "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}",
    "loop over a built list": "{% for c in 'ab' * 5000 %}{{ c }}{% endfor %}",
    "size bomb": "{{ 'a' * 10000000 }}",
    "method size bomb": "{{ first_name.center(10000000) }}",
    "format size bomb": "{{ '{:>9999999}'.format(1) }}",
    "growing output": "{% for i in range(900) %}{{ 'abcdefghij' * 100 }}{% endfor %}",
    "power": "{{ 9 ** 999999 }}",
    "tower": "{{ ((9 ** 64) ** 64) ** 64 }}",
}


@pytest.mark.parametrize("source", BOMBS.values(), ids=list(BOMBS))
def test_loop_and_size_bombs_are_refused_on_save_and_at_send(source: str) -> None:
    """Counted inside the sandbox (no signals): the check refuses it, and rendering stops it quickly."""
    assert check_template(source) != []
    with pytest.raises(TemplateProblem, match="too|longer"):
        render_text(source, DATA)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("Hi {{ 1/0 }}", "Line 1: The template could not be filled in: it divides by zero."),
        ("Hi\n{% include 'x' %}", "Line 2: {% include %} is not available in messages"),
        ("{% extends 'base.html' %}", "{% extends %} is not available"),
        ("{% import 'x' as y %}", "{% import %} is not available"),
        ("{% from 'x' import y %}", "{% import %} is not available"),
        ("{% macro m() %}{% endmacro %}", "macros are not available"),
        ("{{ lipsum() }}", "Unknown merge field {{ lipsum }}"),
        ("{{ first_name|center(9) }}", "No filter named 'center'"),
    ],
)
def test_errors_name_the_line_in_plain_words(source: str, words: str) -> None:
    """Staff see the line and what to change, never a traceback."""
    assert words in check_template(source)[0]


def test_real_templates_still_render_within_the_limits() -> None:
    """A loop over a few items, filters and conditionals are fine."""
    source = ("{% for c in ['a', 'b'] %}{{ c|upper }}{% endfor %} "
              "{% if first_name %}{{ first_name|lower }}{% endif %}")
    assert check_template(source) == []
    assert render_text(source, {"first_name": "Bo"}) == "AB bo"


def test_a_value_that_cannot_be_made_fails_only_templates_that_use_it() -> None:
    """A zone that is not real leaves the appointment time unfillable; other fields still render."""
    data = merge_data(first_name="Bo", last_name=None, starts_at=datetime(2026, 3, 1, tzinfo=UTC),
                      time_zone="Mars/Olympus_Mons", appointment_type=None, practitioner=None, business=None,
                      book_now_url=None, book_now_problem="The Book Now link cannot be made.")
    assert render_text("Hi {{ first_name }}", data) == "Hi Bo"
    with pytest.raises(MessageProblem, match="time zone"):
        render_text("See you {{ appointment_start }}", data)
    with pytest.raises(MessageProblem, match="Book Now link"):
        render_text("Book: {{ book_now_url }}", data)


def test_control_characters_in_names_never_reach_a_header() -> None:
    """CR/LF in a display name becomes a space; an address with CR/LF or two mailboxes is refused."""
    from oncord.messaging.email import OutgoingEmail, clean_display_name, mime_bytes, valid_mailbox
    from oncord.messaging.errors import InvalidAddress

    assert clean_display_name("Mallory\r\nBcc: x@y.example") == "Mallory Bcc: x@y.example"
    for bad in ["a@b.example\r\nBcc: x@y.example", "a@b.example, c@d.example", "Eve <e@x.example>", "nobody",
                "a@b"]:
        with pytest.raises(InvalidAddress, match="invalid e-mail address"):
            valid_mailbox(bad)
    wire = mime_bytes(OutgoingEmail(to_address="m@example.com", to_name="Mallory\r\nBcc: x@y.example",
                                    from_address="hi@clinic.example", from_name="Clinic\n",
                                    subject="Hi\r\nX: y",
                                    text="Body", html=None, unsubscribe_url="https://u.example/u/1"))
    head = wire.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\r\nX: y" not in head and b"List-Unsubscribe" in head
