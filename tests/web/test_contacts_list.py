"""The contacts list: search as you type, filters, sorting, pages, fragments and empty states."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from oncord.contacts import queries
from oncord.contacts.search import search_terms
from tests.factories import make_appointment, make_contact, make_practitioner
from tests.web.conftest import HTMX


def names(response) -> list[str]:
    """The contact names in the results table, in order."""
    return re.findall(r'class="row-link"[^>]*>([^<]+)</a>', response.get_data(as_text=True))


@pytest.fixture
def people(db_session, clock):
    """A handful of contacts with different names, e-mails, phones, consent and links."""
    rows = [
        make_contact(db_session, clock, first_name="Ann", last_name="Smith", email="ann.smith@example.com",
                     phone="0412 345 678", email_marketing_status="subscribed", cliniko_patient_id="11"),
        make_contact(db_session, clock, first_name="Bob", last_name="Smithers", email="bob@example.org",
                     phone="+61 498 765 432", sms_marketing_status="subscribed"),
        make_contact(db_session, clock, first_name="Cara", last_name="Jones", email="cara@smith-law.example",
                     phone="(03) 9123-4567", email_marketing_status="unsubscribed", cliniko_patient_id="12"),
        make_contact(db_session, clock, first_name="Dan", last_name="O'Neil", email=None, phone=None),
    ]
    db_session.commit()
    return rows


def test_full_page_has_the_search_form_and_results(staff_client, people) -> None:
    """A normal request gets the whole page, varying on HX-Request."""
    response = staff_client.get("/contacts")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="contact-filters"' in body and 'id="contact-results"' in body
    assert "HX-Request" in response.headers["Vary"]
    assert names(response) == ["Cara Jones", "Dan O&#39;Neil", "Ann Smith", "Bob Smithers"]
    assert "Showing 1–4 of 4 contacts" in body


def test_htmx_request_gets_only_the_results_and_a_canonical_url(staff_client, people) -> None:
    """Typing in the search box swaps the table only, and pushes a tidy URL for back/reload."""
    response = staff_client.get("/contacts?q=smith&email_status=&sms_status=&linked=&practitioner=&sort=name",
                                headers=HTMX)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="contact-results"')
    assert 'id="contact-filters"' not in body
    assert response.headers["HX-Push-Url"] == "/contacts?q=smith"
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_full_page(staff_client, people) -> None:
    """htmx restoring history after a cache miss gets a whole page, not a fragment."""
    response = staff_client.get("/contacts?q=smith", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert 'id="contact-filters"' in response.get_data(as_text=True)


def test_reloading_a_search_url_shows_the_same_state(staff_client, people) -> None:
    """The URL carries the state: the form is filled in and the same rows show."""
    response = staff_client.get("/contacts?q=smith&sort=name_desc")
    body = response.get_data(as_text=True)
    assert 'value="smith"' in body
    assert re.search(r'<option selected value="name_desc">|<option value="name_desc" selected>', body)
    assert names(response) == ["Bob Smithers", "Ann Smith", "Cara Jones"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("smith", ["Cara Jones", "Ann Smith", "Bob Smithers"]),  # names and e-mail domains
        ("SMITH ann", ["Ann Smith"]),  # every word must match, any case
        ("bob@example", ["Bob Smithers"]),
        ("0412 345 678", ["Ann Smith"]),
        ("+61 412 345 678", ["Ann Smith"]),
        ("412345", ["Ann Smith"]),
        ("0498765432", ["Bob Smithers"]),
        ("9123 4567", ["Cara Jones"]),
        ("o'neil", ["Dan O&#39;Neil"]),
        ("zzz", []),
        ("%", []),  # LIKE wildcards are searched for literally
        ("_", []),
        ("100%", []),
        ("an", ["Ann Smith"]),  # one or two letters: the start of a first or last name
        ("jo", ["Cara Jones"]),
        ("b smi", ["Bob Smithers"]),
        ("12", ["Cara Jones", "Dan O&#39;Neil", "Ann Smith", "Bob Smithers"]),  # too short to filter
    ],
)
def test_search_by_name_email_or_phone(staff_client, people, query, expected) -> None:
    """Search matches parts of names, e-mails and phone numbers however they are typed."""
    assert names(staff_client.get("/contacts", query_string={"q": query}, headers=HTMX)) == expected


def test_search_terms() -> None:
    """Phone-like queries become one number without leading zero or country code."""
    assert search_terms("0412 345 678") == ["412345678"]
    assert search_terms("+61 (412) 345-678") == ["412345678"]
    assert search_terms("  Ann   SMITH ann ") == ["ann", "smith"]
    assert search_terms("") == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"email_status": "subscribed"}, ["Ann Smith"]),
        ({"email_status": "unsubscribed"}, ["Cara Jones"]),
        ({"sms_status": "subscribed"}, ["Bob Smithers"]),
        ({"linked": "yes"}, ["Cara Jones", "Ann Smith"]),
        ({"linked": "no"}, ["Dan O&#39;Neil", "Bob Smithers"]),
        ({"linked": "no", "q": "smith"}, ["Bob Smithers"]),
    ],
)
def test_filters(staff_client, people, args, expected) -> None:
    """Marketing status and Cliniko link narrow the list."""
    assert names(staff_client.get("/contacts", query_string=args, headers=HTMX)) == expected


def test_practitioner_seen_filter(staff_client, db_session, clock, people) -> None:
    """"Seen by" lists contacts with a non-cancelled appointment with that practitioner."""
    jane, sam = make_practitioner(db_session, "Dr Jane"), make_practitioner(db_session, "Sam")
    make_appointment(db_session, people[0], clock.now() - timedelta(days=3), practitioner_id=jane.id)
    make_appointment(db_session, people[1], clock.now() + timedelta(days=3), practitioner_id=jane.id)
    make_appointment(db_session, people[2], clock.now() - timedelta(days=3), practitioner_id=jane.id,
                     cancelled_at=clock.now() - timedelta(days=4))
    make_appointment(db_session, people[3], clock.now(), practitioner_id=sam.id)
    db_session.commit()
    assert names(staff_client.get(f"/contacts?practitioner={jane.id}", headers=HTMX)) == ["Ann Smith",
                                                                                          "Bob Smithers"]
    page = staff_client.get("/contacts").get_data(as_text=True)
    assert f'<option value="{jane.id}">Dr Jane</option>' in page


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Cara Jones", "Dan O&#39;Neil", "Ann Smith", "Bob Smithers"]),
        ("name_desc", ["Bob Smithers", "Ann Smith", "Dan O&#39;Neil", "Cara Jones"]),
        ("newest", ["Dan O&#39;Neil", "Cara Jones", "Bob Smithers", "Ann Smith"]),
        ("email", ["Ann Smith", "Bob Smithers", "Cara Jones", "Dan O&#39;Neil"]),
    ],
)
def test_sorting(staff_client, people, sort, expected) -> None:
    """Each sort order, with contacts without an e-mail last when sorting by e-mail."""
    assert names(staff_client.get(f"/contacts?sort={sort}", headers=HTMX)) == expected


def test_pages(staff_client, db_session, clock) -> None:
    """25 per page with Previous/Next links that keep the search and push their URL."""
    for i in range(30):
        make_contact(db_session, clock, first_name="Pat", last_name=f"Number{i:02d}")
    db_session.commit()
    first = staff_client.get("/contacts?q=pat", headers=HTMX).get_data(as_text=True)
    assert "Showing 1–25 of 30 contacts" in first and "Page 1 of 2" in first
    assert 'href="/contacts?q=pat&amp;page=2"' in first
    second = staff_client.get("/contacts?q=pat&page=2", headers=HTMX)
    assert names(second) == [f"Pat Number{i}" for i in range(25, 30)]
    assert "Showing 26–30 of 30" in second.get_data(as_text=True)
    assert 'href="/contacts?q=pat"' in second.get_data(as_text=True)  # back to page 1


def test_count_is_capped_on_huge_lists(staff_client, db_session, clock, monkeypatch) -> None:
    """Past the cap the list says "more than" and still offers the next page."""
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    for i in range(5):
        make_contact(db_session, clock, first_name="Pat", last_name=f"N{i}")
    db_session.commit()
    result = queries.list_contacts(db_session, queries.ContactFilters(), per_page=2)
    assert (result.total, result.total_is_capped, result.has_next) == (3, True, True)
    searched = queries.list_contacts(db_session, queries.ContactFilters(q="pat", page=2), per_page=2)
    assert (searched.total_is_capped, [r.last_name for r in searched.rows]) == (True, ["N2", "N3"])
    body = staff_client.get("/contacts", headers=HTMX).get_data(as_text=True)
    assert "of more than 3 contacts" in body


def test_bad_arguments_fall_back_to_defaults(staff_client, people) -> None:
    """A mangled URL shows the default list instead of an error."""
    response = staff_client.get("/contacts?page=abc&sort=bogus&email_status=maybe&practitioner=x")
    assert response.status_code == 200
    assert len(names(response)) == 4


def test_empty_state_without_contacts(staff_client, admin) -> None:
    """With no contacts at all, staff are told where contacts come from."""
    body = staff_client.get("/contacts").get_data(as_text=True)
    assert "No contacts yet" in body and "Ask your clinic" in body


def test_empty_state_for_admins_links_to_settings(admin_client) -> None:
    """Admins get a link to connect Cliniko."""
    assert 'href="/settings/integrations"' in admin_client.get("/contacts").get_data(as_text=True)


def test_search_page_past_the_end(staff_client, people) -> None:
    """A page number beyond the matches says so instead of failing."""
    body = staff_client.get("/contacts?q=smith&page=9", headers=HTMX).get_data(as_text=True)
    assert "No contacts match “smith” on page 9" in body


def test_no_match_says_what_to_try(staff_client, people) -> None:
    """A search with no results suggests what to do next."""
    body = staff_client.get("/contacts?q=nobody", headers=HTMX).get_data(as_text=True)
    assert "No contacts match “nobody”" in body and "clear the search" in body


def test_contact_named_script_is_escaped(staff_client, db_session, clock) -> None:
    """A contact named <script>alert(1)</script> is shown as text, never run."""
    make_contact(db_session, clock, first_name="<script>alert(1)</script>", last_name="<b>x</b>",
                 email="<img src=x onerror=alert(1)>@example.com")
    db_session.commit()
    for response in (staff_client.get("/contacts"), staff_client.get("/contacts?q=script", headers=HTMX)):
        body = response.get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body and "<b>x</b>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<img src=x" not in body
    searched = staff_client.get("/contacts", query_string={"q": '"><script>alert(2)</script>'})
    assert "<script>alert(2)</script>" not in searched.get_data(as_text=True)


@pytest.mark.parametrize(("query", "index"), [("smith", "ix_contacts_search_trgm"),
                                              ("0412 345", "ix_contacts_search_trgm"),
                                              ("jo", "ix_contacts_last_name_prefix")])
def test_postgresql_answers_searches_from_the_indexes(db_session, query, index) -> None:
    """The query's expression is the indexed one (a drift would silently mean full scans)."""
    from sqlalchemy import select, text

    from oncord.contacts.search import search_condition
    from oncord.models import Contact

    if db_session.bind.dialect.name != "postgresql":
        pytest.skip("the indexes are PostgreSQL's")
    statement = select(Contact.id).where(search_condition(query))
    sql = str(statement.compile(dialect=db_session.bind.dialect, compile_kwargs={"literal_binds": True}))
    db_session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db_session.scalars(text("EXPLAIN " + sql.replace("%%", "%"))))
    assert index in plan, plan
