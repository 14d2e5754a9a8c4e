"""No form input gives a 5xx: every form route posted with hostile values, as anonymous, staff and admin.

Each POST route is mapped to its WTForms class (and the page that renders it) in FORMS; a POST route
missing from FORMS and FIELDLESS fails the suite, so a new form is fuzzed from the day it appears.
The page's own rendered values are the starting point; then, one field at a time, numbers get huge
and negative ints, dates get out-of-range ones; and all text fields at once get NUL and control
characters, non-UTF-8 bytes, long strings and deeply nested JSON. Cliniko is the local sandbox, so
nothing leaves the machine.

The CI run is short. A long one adds generated values (hypothesis):
ONCORD_FUZZ_EXAMPLES=500 pytest tests/web/test_hostile_forms.py
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms import (
    DateField,
    DateTimeField,
    FieldList,
    FormField,
    IntegerField,
    SelectMultipleField,
    TimeField,
)
from wtforms.fields import SelectField

from oncord.forms.auth import LoginForm, PasswordForm
from oncord.forms.automations import AutomationForm, MessagingSettingsForm
from oncord.forms.campaigns import CampaignForm, ScheduleForm
from oncord.forms.contacts import ContactForm
from oncord.forms.feedback import FeedbackForm
from oncord.forms.pages import (
    ButtonSettingsForm,
    EmbedSettingsForm,
    HeadingSettingsForm,
    NewPageForm,
    OnlineBookingsForm,
    PageForm,
    TextSettingsForm,
)
from oncord.forms.settings import ActionForm, ConnectClinikoForm, EditUserForm, NewUserForm
from oncord.forms.switch_on import SwitchOnForm
from tests.automations.helpers import make_automation
from tests.bookings.samples import make_page
from tests.campaigns.helpers import make_campaign
from tests.factories import make_contact, make_practitioner
from tests.web.conftest import HTMX, csrf_token

EXAMPLES = int(os.environ.get("ONCORD_FUZZ_EXAMPLES", "8"))
INTS = ["99999999999999999999999", "-99999999999999999999999", "9223372036854775808", "-1"]
DATES = ["0001-01-01", "9999-12-31", "0000-00-00"]
TIMES = ["24:60", "00:00"]
NESTED = ["[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000]
# "ключ-au1": not Latin-1 (no HTTP header can carry it), with a Cliniko shard suffix.
TEXTS = ["\x00", "a\x01\x1b\x7fb", "x" * 100_000, *NESTED, "1e309", "NaN", "\u202e" + "é" * 300,
         "ключ-au1"]
NOT_UTF8 = "%FF%FE%00%C3"  # percent-encoded bytes that are not UTF-8


@dataclass(frozen=True)
class FormRoute:
    """A POST route, its form class, the page that renders the form, and values some fields need."""

    url: str
    form: type
    page: str | None = None
    form_kwargs: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    # Fields that only take effect alongside others (a date needs its period).
    needs: dict[str, dict[str, str]] = field(default_factory=dict)
    # Values the view reads from request.form itself, fuzzed as text (the editor's block JSON).
    reads: tuple[str, ...] = ()


_CONDITION_DATES = {
    "conditions-0-start": {"conditions-0-period": "since"},
    "conditions-0-end": {"conditions-0-period": "between", "conditions-0-start": "2026-01-01"},
    "conditions-0-days": {"conditions-0-period": "last_days"},
}
_CAMPAIGN = {"page": "/campaigns/new?channel=email", "needs": _CONDITION_DATES}
_EMBED = '{"type": "heading", "id": "b00000001", "text": "Hello", "level": 2}'

FORMS = [
    FormRoute("/login", LoginForm, "/login"),
    FormRoute("/account/password", PasswordForm, "/account/password"),
    FormRoute("/automations/new", AutomationForm, "/automations/new"),
    FormRoute("/automations/{automation}", AutomationForm, "/automations/{automation}"),
    FormRoute("/automations/preview", AutomationForm, "/automations/new"),
    FormRoute("/automations/test-send", AutomationForm, "/automations/new"),
    FormRoute("/automations/new/trigger", AutomationForm, "/automations/new"),
    FormRoute("/automations/{automation}/trigger", AutomationForm, "/automations/{automation}"),
    FormRoute("/automations/{automation}/switch-on", SwitchOnForm, "/automations/{automation}/switch-on"),
    FormRoute("/campaigns/new", CampaignForm, **_CAMPAIGN),
    FormRoute("/campaigns/{campaign}/edit", CampaignForm, "/campaigns/{campaign}/edit",
              needs=_CONDITION_DATES),
    FormRoute("/campaigns/audience", CampaignForm, **_CAMPAIGN),
    FormRoute("/campaigns/audience/conditions", CampaignForm, extra={"op": "add"}, **_CAMPAIGN),
    FormRoute("/campaigns/preview", CampaignForm, **_CAMPAIGN),
    FormRoute("/campaigns/sms-counter", CampaignForm, **_CAMPAIGN),
    FormRoute("/campaigns/test-send", CampaignForm, **_CAMPAIGN),
    FormRoute("/campaigns/{campaign}/schedule", ScheduleForm, "/campaigns/{campaign}"),
    FormRoute("/contacts/{contact}/edit", ContactForm, "/contacts/{contact}/edit",
              form_kwargs={"today": None}),
    FormRoute("/contacts/new", ContactForm, "/contacts/new", form_kwargs={"today": None}),
    FormRoute("/settings/integrations/cliniko", ConnectClinikoForm, "/settings/integrations"),
    FormRoute("/settings/users", NewUserForm, "/settings/users"),
    FormRoute("/settings/users/{user}", EditUserForm, "/settings/users"),
    FormRoute("/settings/messaging", MessagingSettingsForm, "/settings/messaging"),
    FormRoute("/settings/online-bookings/", OnlineBookingsForm, "/settings/online-bookings/"),
    FormRoute("/pages/new", NewPageForm, "/pages/new"),
    FormRoute("/pages/{page}/edit", PageForm, "/pages/{page}/edit", extra={"block": _EMBED},
              reads=("block",)),
    FormRoute("/pages/blocks/settings", ActionForm, extra={"block": _EMBED}, reads=("block",)),
    FormRoute("/pages/blocks/apply", HeadingSettingsForm, extra={"kind": "heading"}),
    FormRoute("/pages/blocks/apply", TextSettingsForm, extra={"kind": "text"}),
    FormRoute("/pages/blocks/apply", ButtonSettingsForm, extra={"kind": "button"}),
    FormRoute("/pages/blocks/apply", EmbedSettingsForm, extra={"kind": "embed"}),
    FormRoute("/f/{token}", FeedbackForm, "/f/{token}"),
]
# POST routes whose only input is the CSRF token (buttons), or that are not forms (webhooks).
FIELDLESS = {
    "/logout", "/automations/{automation}/toggle", "/campaigns/{campaign}/cancel",
    "/campaigns/{campaign}/pause", "/campaigns/{campaign}/resume", "/campaigns/{campaign}/send",
    "/campaigns/{campaign}/unschedule", "/contacts/{contact}/cliniko-patient",
    "/settings/integrations/cliniko/auto-sync", "/settings/integrations/cliniko/disconnect",
    "/settings/integrations/cliniko/sync", "/settings/users/{user}/sign-out", "/pages/{page}/delete",
    "/pages/book-now", "/hooks/twilio/sms", "/u/{token}",
    "/automations/{automation}/delete", "/automations/{automation}/duplicate",
    "/campaigns/{campaign}/delete", "/campaigns/{campaign}/archive", "/campaigns/{campaign}/duplicate",
    "/automations/recipes/{key}",
}
# POST routes that read request.form themselves, with their own hostile-value test.
OWN_FUZZ = {
    "/automations/{automation}/journey":
        "tests/automations/test_journeys.py::test_hostile_step_values_get_a_plain_422_and_save_nothing",
}
_PLACEHOLDER = {"automation_id": "{automation}", "campaign_id": "{campaign}", "contact_id": "{contact}",
                "page_id": "{page}", "user_id": "{user}", "run_id": "{run}", "token": "{token}",
                "key": "{key}"}


def _rule_as_template(rule: str) -> str:
    for name, placeholder in _PLACEHOLDER.items():
        rule = rule.replace(f"<int:{name}>", placeholder).replace(f"<{name}>", placeholder)
    return rule


def test_every_post_route_is_in_the_fuzz_table(app: Flask) -> None:
    """A form route nobody listed would escape the fuzzing: every POST route is in FORMS or FIELDLESS."""
    posts = {_rule_as_template(r.rule) for r in app.url_map.iter_rules() if "POST" in (r.methods or ())}
    listed = {route.url for route in FORMS} | FIELDLESS | set(OWN_FUZZ)
    assert posts - listed == set()


def _kind(field_obj: Any) -> str:
    if isinstance(field_obj, IntegerField) or getattr(field_obj, "coerce", None) is int:
        return "int"
    if isinstance(field_obj, DateField | DateTimeField):
        return "date"
    if isinstance(field_obj, TimeField):
        return "time"
    if isinstance(field_obj, SelectMultipleField | SelectField):
        return "choice"
    return "text"


def _fields(app: Flask, route: FormRoute) -> dict[str, str]:
    """Every field name the form reads (a FieldList's first entry included), with its kind."""
    with app.test_request_context(method="POST"):
        kwargs = dict(route.form_kwargs)
        if "today" in kwargs:
            from datetime import date

            kwargs["today"] = date(2026, 11, 21)
        form = route.form(meta={"csrf": False}, **kwargs)
        names: dict[str, str] = {}
        for name, bound in form._fields.items():
            if name == "csrf_token":
                continue
            if isinstance(bound, FieldList) and bound.unbound_field.field_class is FormField:
                inner = bound.unbound_field.args[0](meta={"csrf": False})
                for sub, sub_field in inner._fields.items():
                    names[f"{name}-0-{sub}"] = _kind(sub_field)
            else:
                names[name] = _kind(bound)
        return names


class _FormValues(HTMLParser):
    """The values a rendered page's form fields would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.setdefault(name, a.get("value", "y" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            if "selected" in a or self._select not in self.values:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.setdefault(name, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


@pytest.fixture
def ids(app, db_session, clock, staff, admin, cliniko) -> dict[str, str]:
    """One of each row the form routes edit."""
    contact = make_contact(db_session, clock, email="ada@example.com")
    make_practitioner(db_session)
    campaign = make_campaign(db_session, clock)
    automation = make_automation(db_session, clock)
    page = make_page(db_session, clock, slug="hostile-test")
    db_session.commit()
    return {"contact": str(contact.id), "campaign": str(campaign.id), "automation": str(automation.id),
            "page": str(page.id), "user": str(staff.id), "token": "x"}


def _url(template: str, ids: dict[str, str]) -> str:
    return template.format(**ids)


def _base(client: FlaskClient, route: FormRoute, ids: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    if route.page:
        parser = _FormValues()
        parser.feed(client.get(_url(route.page, ids)).get_data(as_text=True))
        values = parser.values
    values.pop("csrf_token", None)
    return {**values, **route.extra}


def _post(client: FlaskClient, url: str, values: dict[str, str], raw: dict[str, str] | None = None):
    # Encoded by hand so that bytes which are not UTF-8 reach the app as they are.
    pairs = [f"{quote(k)}={quote(v, safe='')}" for k, v in values.items()]
    pairs += [f"{quote(k)}={v}" for k, v in (raw or {}).items()]
    headers = {"X-CSRFToken": csrf_token(client), **HTMX}
    return client.post(url, data="&".join(pairs), headers=headers,
                       content_type="application/x-www-form-urlencoded")


def _assert_ok(response, url: str, what: str) -> None:
    assert response.status_code < 500, (url, what, response.status_code)


Case = tuple[str, dict[str, str], dict[str, str]]


def _cases(app: Flask, route: FormRoute, *, per_field: bool) -> list[Case]:
    """(description, values to set, raw percent-encoded values) for one route.

    per_field adds the numbers and dates, one field at a time (the most requests).
    """
    fields = _fields(app, route)
    cases = []
    for name, kind in fields.items() if per_field else ():
        values = {"int": INTS, "date": DATES, "time": TIMES}.get(kind, [])
        for value in values:
            cases.append((f"{name}={value}", {**route.needs.get(name, {}), name: value}, {}))
    text_fields = [name for name, kind in fields.items() if kind in ("text", "choice")] + list(route.reads)
    for value in TEXTS:
        cases.append((f"text={value[:12]!r}", dict.fromkeys(text_fields, value), {}))
    cases.append(("not UTF-8", {}, dict.fromkeys(fields, NOT_UTF8)))
    return cases


def _fuzz(client: FlaskClient, app: Flask, ids: dict[str, str], *, every_case: bool) -> None:
    for route in FORMS:
        url, base = _url(route.url, ids), _base(client, route, ids)
        for what, values, raw in _cases(app, route, per_field=every_case):
            _assert_ok(_post(client, url, {**base, **values}, raw), url, what)


def test_form_routes_survive_hostile_values_as_admin(admin_client, app, ids) -> None:
    """An admin (who reaches every form) gets no 5xx from any field with any hostile value."""
    _fuzz(admin_client, app, ids, every_case=True)


def test_form_routes_survive_hostile_text_as_staff(staff_client, app, ids) -> None:
    """Staff get no 5xx (a 403 on admin forms) from hostile text and bytes in every form."""
    _fuzz(staff_client, app, ids, every_case=False)


def test_form_routes_survive_hostile_text_anonymous(client, app, ids) -> None:
    """An anonymous visitor gets no 5xx from hostile text and bytes in any form (login included)."""
    _fuzz(client, app, ids, every_case=False)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_values_in_forms_give_no_5xx(admin_client, app, ids, data) -> None:
    """A generated text or integer in any one field of any form gives no 5xx."""
    route = data.draw(st.sampled_from(FORMS))
    name = data.draw(st.sampled_from(sorted(_fields(app, route)) + list(route.reads)))
    value = data.draw(st.one_of(st.text(max_size=60), st.integers(-(2**80), 2**80).map(str)))
    url = _url(route.url, ids)
    base = _base(admin_client, route, ids)
    _assert_ok(_post(admin_client, url, {**base, **route.needs.get(name, {}), name: value}), url, name)


def _campaign(client: FlaskClient, ids: dict[str, str], **values: str):
    route = next(r for r in FORMS if r.url == "/campaigns/new")
    return _post(client, "/campaigns/new", {**_base(client, route, ids), **values})


def test_audience_values_out_of_range_come_back_on_the_form(admin_client, ids) -> None:
    """Days, dates and practitioner ids out of range are a 422 naming the problem, not a 500 or a 400."""
    days = _campaign(admin_client, ids, **{"conditions-0-days": "99999999999999999999999"})
    assert days.status_code == 422 and "number of days from 1 to 3650" in days.get_data(as_text=True)
    since = {"conditions-0-period": "since", "conditions-0-start": "0001-01-01"}
    start = _campaign(admin_client, ids, **since)
    assert start.status_code == 422 and "Choose a date between 01/01/1900" in start.get_data(as_text=True)
    seen = _campaign(admin_client, ids, **{"conditions-0-practitioners": "99999999999999999999999"})
    assert seen.status_code == 422 and "not on the list any more" in seen.get_data(as_text=True)


def test_ids_out_of_range_in_a_query_string_are_ignored(admin_client, ids) -> None:
    """?after= beyond any id shows the first page; ?practitioner= beyond any id filters nothing."""
    response = admin_client.get(f"/campaigns/{ids['campaign']}/recipients?after=99999999999999999999999")
    assert response.status_code == 200
    assert admin_client.get("/contacts?practitioner=99999999999999999999999").status_code == 200


def test_deeply_nested_block_json_is_refused_with_a_message(admin_client, ids) -> None:
    """The page editor answers a block nested thousands deep with its plain "could not be read"."""
    response = _post(admin_client, "/pages/blocks/settings", {"block": NESTED[0]})
    assert response.status_code == 400
    assert "could not be read" in unquote(response.headers["X-Oncord-Alert"])


def test_an_api_key_that_is_not_latin_1_is_refused_with_a_message(admin_client, ids) -> None:
    """A key no HTTP header can carry is refused on the Integrations form, before any request."""
    response = _post(admin_client, "/settings/integrations/cliniko", {"api_key": "ключ-au1"})
    assert response.status_code == 422
    assert "That is not a Cliniko API key" in response.get_data(as_text=True)
