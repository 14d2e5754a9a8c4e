"""Merge-field templates: staff text with {{ first_name }} etc., rendered in Jinja2's sandbox.

Staff write plain text. The text part, the SMS and the subject are rendered without escaping.
An e-mail body is also split into blocks (text, Book Now button, image, divider:
oncord.messaging.blocks) and its HTML part is the clinic's designed layout
(oncord.messaging.email_layout), which escapes every piece of text and every merge value, so a
contact called "<b>Bo</b>" stays text everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, wraps
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from oncord.messaging.blocks import Block, BlockProblem, blocks_text, mark, parse_blocks
from oncord.messaging.design import EmailDesign
from oncord.messaging.email_layout import designed_html
from oncord.messaging.errors import MessageProblem
from oncord.timezones import clock_time, zone_suffix

# Limits on one render, counted inside the sandbox (no signals: RQ's work horse already uses
# SIGALRM for job timeouts and web threads cannot take signals). A message is a few hundred
# characters, so these leave room for any real template and stop a runaway one within
# milliseconds.
MAX_LOOP_ITERATIONS = 1_000  # every loop of the template together
MAX_OPERATIONS = 10_000  # calls, attribute look-ups, filters and intercepted operators
MAX_OUTPUT = 100_000  # characters of output, and of any one value built while rendering
MAX_SOURCE = 20_000  # characters of template source
# Filters staff may use; each is wrapped so its result counts against the limits.
SAFE_FILTERS = (
    "capitalize", "default", "d", "lower", "upper", "title", "trim", "replace", "first", "last",
    "length", "count", "join", "truncate", "striptags", "string", "int", "round", "abs", "e",
    "escape", "safe", "list", "wordcount",
)

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
    "feedback_links": "How likely are you to recommend us? 0–10, as links (oncord.feedback.links)",
    "review_url": "The clinic's Google review link (Settings → Online bookings)",
}


REVIEW_URL_UNSET = (
    "The message uses {{ review_url }} but the clinic's review link is not set. An admin sets it in "
    "Settings → Online bookings, “Google review link”."
)


class TemplateProblem(MessageProblem):
    """A template that cannot be rendered; the message says how to fix it."""


class _Budget:
    """What one render may still spend; a new one for each render."""

    __slots__ = ("operations", "iterations")

    def __init__(self) -> None:
        self.operations = 0
        self.iterations = 0

    def spend(self) -> None:
        self.operations += 1
        if self.operations > MAX_OPERATIONS:
            raise TemplateProblem(
                f"The template does too much work (more than {MAX_OPERATIONS:,} steps). Simplify it."
            )

    def loop(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise TemplateProblem(
                f"The template repeats too often (more than {MAX_LOOP_ITERATIONS:,} loop steps). "
                "Remove or shorten the loop."
            )


_budget: ContextVar[_Budget | None] = ContextVar("oncord_template_budget", default=None)


def _current() -> _Budget:
    budget = _budget.get()
    if budget is None:  # rendered outside render_text (e.g. the HTML layout): its own budget
        budget = _Budget()
        _budget.set(budget)
    return budget


def _checked(value: Any) -> Any:
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_OUTPUT:
        raise TemplateProblem(f"The template makes text longer than {MAX_OUTPUT:,} characters. Shorten it.")
    return value


def _counted(items: Any) -> Iterator[Any]:
    budget = _current()
    for item in items:
        budget.loop()
        yield item


def _loop_guard(items: Any) -> Iterator[Any]:
    # Every {% for %} iterates through this (see _BoundedEnvironment._parse), so nested loops
    # cannot multiply past the budget whatever they iterate over.
    return _counted(items)


_GUARD = "__oncord_loop_guard"


class _GuardLoops(NodeTransformer):
    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        node.iter = nodes.Call(nodes.Name(_GUARD, "load"), [node.iter], [], None, None)
        return node


class _BoundedEnvironment(SandboxedEnvironment):
    """Jinja's sandbox with no loader, no globals but a counted range(), and a budget per render."""

    intercepted_binops = frozenset({"*", "**", "+", "//", "/", "%"})
    intercepted_unops = frozenset({"-", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(undefined=StrictUndefined, **options)
        self.globals = {"range": range, _GUARD: _loop_guard}
        self.filters = {name: _wrap_filter(self.filters[name]) for name in SAFE_FILTERS}
        self.tests = dict(self.tests)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _current().spend()
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
                raise TemplateProblem(f"A number in the template is too big ({value:,}).")
        return _checked(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _current().spend()
        if operator == "**" and isinstance(right, int | float) and (
            abs(right) > 64 or (isinstance(left, int) and left.bit_length() * abs(right) > 4096)
        ):
            raise TemplateProblem("A power in the template is too big.")
        sequence = (str, list, tuple)
        if operator == "*" and (isinstance(left, sequence) or isinstance(right, sequence)):
            other = right if isinstance(left, sequence) else left
            size = len(left if isinstance(left, sequence) else right)
            if isinstance(other, int) and size * other > MAX_OUTPUT:
                raise TemplateProblem(
                    f"The template makes text longer than {MAX_OUTPUT:,} characters. Shorten it."
                )
        return _checked(super().call_binop(context, operator, left, right))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _current().spend()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _current().spend()
        return super().getitem(obj, argument)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for node in tree.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
            word = type(node).__name__.lower().replace("fromimport", "import")
            raise TemplateSyntaxError(
                f"{{% {word} %}} is not available in messages; write the text in this template",
                node.lineno,
            )
        for node in tree.find_all((nodes.Macro, nodes.CallBlock)):
            raise TemplateSyntaxError("macros are not available in messages", node.lineno)
        return _GuardLoops().visit(tree)


def _wrap_filter(function: Any) -> Any:
    @wraps(function)
    def counted(*args: Any, **kwargs: Any) -> Any:
        _current().spend()
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
                raise TemplateProblem(f"A number in the template is too big ({value:,}).")
        return _checked(function(*args, **kwargs))

    return counted


_text_env = _BoundedEnvironment(autoescape=False)
# An e-mail body: the same, but every merge value is marked so it can never start a block.
_marked_env = _BoundedEnvironment(autoescape=False, finalize=mark)


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _text_env.from_string(source)


@lru_cache(maxsize=512)
def _compiled_marked(source: str) -> Any:
    return _marked_env.from_string(source)


# What the editors' check fills in: a sample contact and appointment.
SAMPLE_DATA: dict[str, str] = {
    "first_name": "Olivia",
    "last_name": "Example",
    "appointment_start": "Tuesday 24 November at 9:30 am",
    "appointment_date": "Tuesday 24 November",
    "appointment_time": "9:30 am",
    "appointment_type": "Initial consultation",
    "practitioner": "Dr Jane Smith",
    "business": "Sunnyside Physio",
    "book_now_url": "https://example.cliniko.com/bookings",
    "feedback_links": "How likely are you to recommend us to a friend? 0–10: https://example.com/f/sample",
    "review_url": "https://g.page/r/example/review",
}


def check_template(
    source: str,
    allowed: Iterable[str] | None = None,
    sample: dict[str, str] | None = SAMPLE_DATA,
    *,
    email_body: bool = False,
) -> list[str]:
    """Problems staff must fix before saving: bad syntax, unknown merge fields, or a render that
    fails or runs past the limits with `sample` data (empty if fine).

    `allowed` narrows the merge fields (a campaign has no appointment to fill in); default: all.
    `email_body`: also split it into blocks, so an unknown or malformed block line is reported.
    """
    if len(source) > MAX_SOURCE:
        return [f"The template is too long (more than {MAX_SOURCE:,} characters)."]
    try:
        parsed = _text_env.parse(source)
        found = meta.find_undeclared_variables(parsed)
    except TemplateSyntaxError as exc:
        message = (exc.message or "").rstrip(".")
        return [f"Line {exc.lineno}: {message}. Merge fields look like {{{{ first_name }}}}."]
    known = set(MERGE_FIELDS) if allowed is None else set(allowed)
    unknown = sorted(found - known - set(_text_env.globals))
    if unknown:
        names = ", ".join(f"{{{{ {name} }}}}" for name in unknown)
        return [f"Unknown merge field {names}. Use one of the fields listed beside the editor."]
    if sample is not None:
        data = {name: sample.get(name, "") for name in known}
        try:
            render_text(source, data)
            if email_body:
                render_blocks(source, {**data, "book_now_url": sample.get("book_now_url", "")})
        except (TemplateProblem, BlockProblem) as exc:
            return [str(exc)]
    return []


def check_email_body(source: str, allowed: Iterable[str] | None = None) -> list[str]:
    """check_template for an e-mail body: its block lines are checked too."""
    return check_template(source, allowed, email_body=True)


def _template_line(exc: BaseException) -> int | None:
    # Jinja rewrites tracebacks so a template's frames carry its own line numbers.
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _plain(exc: BaseException) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "it divides by zero"
    if isinstance(exc, UndefinedError):
        return f"{exc.message}" if exc.message else "it uses something that is not a merge field"
    if isinstance(exc, SecurityError):
        return "it uses something templates may not use"
    if isinstance(exc, TypeError | ValueError | ArithmeticError | LookupError):
        return f"a value cannot be used that way ({exc})"
    return f"{type(exc).__name__}: {exc}"


def render_text(source: str, data: dict[str, Any]) -> str:
    """Render a template as plain text (SMS, subject, the e-mail's text part), within the limits.

    Any failure (syntax, a merge field it cannot fill, an error while rendering, a limit) is a
    TemplateProblem naming the line, so one bad template fails its own messages and nothing else.
    """
    return _render(_compiled, source, data)


def render_blocks(source: str, data: dict[str, Any]) -> list[Block]:
    """Render an e-mail body and split it into blocks; a bad block line raises BlockProblem."""
    return parse_blocks(_render(_compiled_marked, source, data), data.get("book_now_url"))


def _render(compiled: Any, source: str, data: dict[str, Any]) -> str:
    token = _budget.set(_Budget())
    try:
        if len(source) > MAX_SOURCE:
            raise TemplateProblem(f"The template is too long (more than {MAX_SOURCE:,} characters).")
        parts: list[str] = []
        size = 0
        for chunk in compiled(source).generate(**data):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateProblem(
                    f"The template makes text longer than {MAX_OUTPUT:,} characters. Shorten it."
                )
            parts.append(chunk)
        return "".join(parts).strip()
    except TemplateProblem as exc:
        line = _template_line(exc)
        message = str(exc)
        if line and not message.startswith("Line "):
            message = f"Line {line}: {message}"
        raise TemplateProblem(message) from None
    except MessageProblem:
        raise  # a merge value that cannot be made (zone, link): its own words, not the template's
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"Line {exc.lineno}: {(exc.message or '').rstrip('.')}.") from exc
    except Exception as exc:  # noqa: BLE001 - any error in staff text fails that message only
        line = _template_line(exc)
        where = f"Line {line}: " if line else ""
        raise TemplateProblem(f"{where}The template could not be filled in: {_plain(exc)}.") from exc
    finally:
        _budget.reset(token)


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
    design: EmailDesign | None = None,
    base_url: str = "",
    swaps: Iterable[tuple[str, Markup]] = (),
) -> RenderedEmail:
    """Render subject and body, adding the sender identification and the unsubscribe link; the HTML
    part is the clinic's design (`base_url` makes its logo address absolute; each `swaps` pair
    replaces that one-line text with its HTML, e.g. the feedback links' buttons)."""
    subject = " ".join(render_text(subject_source, data).split())
    blocks = render_blocks(body_source, data)
    body = blocks_text(blocks)
    text_footer = [line for line in footer if line]
    if unsubscribe_url:
        text_footer.append(f"Unsubscribe from e-mails from {sender_name}: {unsubscribe_url}")
    text = body + ("\n\n--\n" + "\n".join(text_footer) if text_footer else "") + "\n"
    html = designed_html(design or EmailDesign(clinic_name=sender_name), base_url, subject=subject,
                         blocks=blocks, footer=[line for line in footer if line],
                         unsubscribe_url=unsubscribe_url, sender_name=sender_name,
                         swaps=swaps)
    return RenderedEmail(subject=subject, text=text, html=html)


class Unavailable:
    """A merge field that cannot be filled in (a broken zone or link): a template that prints it
    fails with `problem`, one that does not use it renders as usual."""

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def __str__(self) -> str:
        raise MessageProblem(self.problem)

    def __bool__(self) -> bool:
        return False


def zone_problem(time_zone: str | None) -> str | None:
    """Why a time zone name cannot be used, in staff words (None when it is a real zone)."""
    try:
        ZoneInfo(time_zone or "")
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return (
            f"The clinic location's time zone ({time_zone!r}) is not a valid time zone, so the "
            "appointment time cannot be shown. Fix the location's time zone in Cliniko."
        )
    return None


def format_start(moment: datetime, time_zone: str, clinic_zone: str | None = None) -> dict[str, str]:
    """The appointment start as merge fields, in its business's zone, with the zone's short name
    when that reads differently from the clinic's (the rule of oncord.timezones)."""
    local = moment.astimezone(ZoneInfo(time_zone))
    hour = clock_time(local) + zone_suffix(moment, time_zone, clinic_zone or time_zone)
    day = f"{local.strftime('%A')} {local.day} {local.strftime('%B')}"
    return {"appointment_start": f"{day} at {hour}", "appointment_date": day, "appointment_time": hour}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(value: str | None) -> str:
    # A synced name is one line of text: control characters (CR/LF included) become spaces.
    return " ".join(_CONTROL.sub(" ", value or "").split())


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
    book_now_problem: str | None = None,
    clinic_zone: str | None = None,
    review_url: str | None = None,
) -> dict[str, Any]:
    """Every merge field's value; missing values become empty text rather than errors, and a
    value that cannot be made (bad zone, bad link) fails only the templates that use it."""
    data: dict[str, Any] = {
        "first_name": _one_line(first_name),
        "last_name": _one_line(last_name),
        "appointment_type": appointment_type or "",
        "practitioner": practitioner or "",
        "business": business or "",
        "book_now_url": book_now_url or (Unavailable(book_now_problem) if book_now_problem else ""),
        # A review request without the link would ask for a review with nowhere to leave it.
        "review_url": review_url or Unavailable(REVIEW_URL_UNSET),
        "appointment_start": "",
        "appointment_date": "",
        "appointment_time": "",
    }
    if starts_at is not None:
        problem = zone_problem(time_zone)
        if problem is None:
            data.update(format_start(starts_at, time_zone, clinic_zone))
        else:
            data.update({key: Unavailable(problem) for key in
                         ("appointment_start", "appointment_date", "appointment_time")})
    return data
