"""Merge-field templates: staff text with {{ first_name }} etc., rendered in Jinja2's sandbox.

Staff write plain text. The text part, the SMS and the subject are rendered without escaping;
the HTML part escapes the rendered text (merge values included) and wraps it in a layout that
Jinja renders with autoescaping, so a contact called "<b>Bo</b>" stays text everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup, escape

# name -> what staff see in the editor's list of merge fields.
MERGE_FIELDS: dict[str, str] = {
    "first_name": "The contact's first name",
    "last_name": "The contact's last name",
    "appointment_start": "Day, date and time, e.g. Tuesday 24 November at 9:30 am",
    "appointment_date": "Day and date, e.g. Tuesday 24 November",
    "appointment_time": "Time, e.g. 9:30 am",
    "appointment_type": "The appointment type, e.g. Initial consultation",
    "practitioner": "The practitioner's name",
    "business": "The clinic location's name",
    "book_now_url": "The link to book online",
}


class TemplateProblem(ValueError):
    """A template that cannot be rendered; the message says how to fix it."""


_text_env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
_html_env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)

_HTML_LAYOUT = _html_env.from_string(
    """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ subject }}</title></head>
<body style="margin:0;padding:24px;background:#f6f7f9;font-family:Arial,Helvetica,sans-serif;color:#1f2933">
<div style="max-width:560px;margin:0 auto;background:#ffffff;padding:24px;border-radius:6px;line-height:1.5">
{{ body }}
</div>
<div style="max-width:560px;margin:16px auto 0;font-size:12px;color:#616e7c;line-height:1.5">
{% for line in footer %}<p style="margin:0 0 6px">{{ line }}</p>{% endfor %}
{% if unsubscribe_url %}<p style="margin:0">
<a href="{{ unsubscribe_url }}" style="color:#616e7c">Unsubscribe</a> from e-mails from {{ sender_name }}.
</p>{% endif %}
</div>
</body></html>
"""
)

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _text_env.from_string(source)


def check_template(source: str, allowed: Iterable[str] | None = None) -> list[str]:
    """Problems staff must fix before saving: bad syntax or unknown merge fields (empty if fine).

    `allowed` narrows the merge fields (a campaign has no appointment to fill in); default: all.
    """
    try:
        parsed = _text_env.parse(source)
    except TemplateSyntaxError as exc:
        return [f"Line {exc.lineno}: {exc.message}. Merge fields look like {{{{ first_name }}}}."]
    known = set(MERGE_FIELDS) if allowed is None else set(allowed)
    unknown = sorted(meta.find_undeclared_variables(parsed) - known)
    if unknown:
        names = ", ".join(f"{{{{ {name} }}}}" for name in unknown)
        return [f"Unknown merge field {names}. Use one of the fields listed beside the editor."]
    return []


def render_text(source: str, data: dict[str, str]) -> str:
    """Render a template as plain text (SMS, subject, the e-mail's text part)."""
    try:
        return _compiled(source).render(**data).strip()
    except (UndefinedError, SecurityError, TemplateSyntaxError) as exc:
        raise TemplateProblem(f"The template could not be filled in: {exc}.") from exc


def text_to_html(text: str) -> Markup:
    """Escape plain text and turn paragraphs, line breaks and links into HTML."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = str(escape(block))
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append("<p style=\"margin:0 0 12px\">" + linked.replace("\n", "<br>\n") + "</p>")
    return Markup("\n".join(paragraphs))


@dataclass(frozen=True)
class RenderedEmail:
    """An e-mail's subject, text part and HTML part."""

    subject: str
    text: str
    html: str


def render_email(
    subject_source: str,
    body_source: str,
    data: dict[str, str],
    *,
    sender_name: str,
    footer: list[str],
    unsubscribe_url: str | None,
) -> RenderedEmail:
    """Render subject and body, adding the sender identification and the unsubscribe link."""
    subject = " ".join(render_text(subject_source, data).split())
    body = render_text(body_source, data)
    text_footer = [line for line in footer if line]
    if unsubscribe_url:
        text_footer.append(f"Unsubscribe from e-mails from {sender_name}: {unsubscribe_url}")
    text = body + ("\n\n--\n" + "\n".join(text_footer) if text_footer else "") + "\n"
    html = _HTML_LAYOUT.render(
        subject=subject,
        body=text_to_html(body),
        footer=[line for line in footer if line],
        unsubscribe_url=unsubscribe_url,
        sender_name=sender_name,
    )
    return RenderedEmail(subject=subject, text=text, html=html)


def format_start(moment: datetime, time_zone: str) -> dict[str, str]:
    """The appointment start as merge fields, in the clinic's time zone."""
    local = moment.astimezone(ZoneInfo(time_zone))
    hour = local.strftime("%I").lstrip("0") + local.strftime(":%M ") + local.strftime("%p").lower()
    day = f"{local.strftime('%A')} {local.day} {local.strftime('%B')}"
    return {"appointment_start": f"{day} at {hour}", "appointment_date": day, "appointment_time": hour}


def merge_data(
    *,
    first_name: str | None,
    last_name: str | None,
    starts_at: datetime | None,
    time_zone: str,
    appointment_type: str | None,
    practitioner: str | None,
    business: str | None,
    book_now_url: str | None,
) -> dict[str, str]:
    """Every merge field's value; missing values become empty text rather than errors."""
    data = {
        "first_name": (first_name or "").strip(),
        "last_name": (last_name or "").strip(),
        "appointment_type": appointment_type or "",
        "practitioner": practitioner or "",
        "business": business or "",
        "book_now_url": book_now_url or "",
        "appointment_start": "",
        "appointment_date": "",
        "appointment_time": "",
    }
    if starts_at is not None:
        data.update(format_start(starts_at, time_zone))
    return data
