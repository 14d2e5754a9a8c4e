"""Admins' CSV downloads (contacts, the consent ledger) and the CLI export: formulas never run."""

from __future__ import annotations

import csv
import io

from oncord import context
from oncord.contacts.export import CONTACT_FIELDS
from oncord.csv_safe import neutralise
from oncord.messaging.unsubscribe import unsubscribe_url
from tests.factories import make_contact
from tests.web.conftest import post

HOSTILE = {
    "first_name": "=HYPERLINK(\"http://evil.example\",\"Click\")",
    "last_name": "+SUM(1,2)",
    "city": "-2+3",
    "state": "@cmd",
    "address_1": "\t=1+1",
    "address_2": "\r=1+1",
}


def _rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body, newline="")))


def _download(client, url: str):
    """GET a download and close it, as a WSGI server does."""
    response = client.get(url)
    response.close()
    return response


def _assert_neutralised(row: dict[str, str]) -> None:
    for name, value in HOSTILE.items():
        assert row[name] == "'" + value, name


def test_neutralise_marks_only_formula_looking_text() -> None:
    """Text starting with = + - @ tab or CR gets an apostrophe; other text and numbers stay."""
    assert [neutralise(v) for v in ("=1", "+61 412", "-x", "@a", "\tb", "\rc")] == [
        "'=1", "'+61 412", "'-x", "'@a", "'\tb", "'\rc"]
    assert [neutralise(v) for v in ("Ada", "a=b", "", None, -5, 3.5)] == ["Ada", "a=b", "", None, -5, 3.5]


def test_the_contacts_csv_has_the_cli_columns_and_neutralises_formulas(
    admin_client, db_session, clock
) -> None:
    """An admin downloads every contact, with the CLI export's columns, formula-looking cells defused."""
    make_contact(db_session, clock, email="eve@example.com", **HOSTILE)
    make_contact(db_session, clock, first_name="Ada", last_name="Lovelace")
    db_session.commit()
    response = _download(admin_client, "/exports/contacts.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="contacts-')
    body = response.get_data(as_text=True)
    assert body.splitlines()[0].split(",") == list(CONTACT_FIELDS)
    rows = _rows(body)
    _assert_neutralised(rows[0])
    assert (rows[1]["first_name"], rows[1]["last_name"]) == ("Ada", "Lovelace")


def test_the_cli_csv_export_neutralises_formulas(app, db_session, clock, tmp_path) -> None:
    """`flask contacts export --format csv` defuses the same cells."""
    make_contact(db_session, clock, **HOSTILE)
    db_session.commit()
    out = tmp_path / "contacts.csv"
    result = app.test_cli_runner().invoke(args=["contacts", "export", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    _assert_neutralised(_rows(out.read_bytes().decode("utf-8"))[0])


def test_the_ledger_csv_is_for_admins_and_neutralises_formulas(
    app, client, admin_client, db_session, clock
) -> None:
    """The whole ledger, oldest first, with name and e-mail; staff get 403; evidence cannot run."""
    contact = make_contact(db_session, clock, email="eve@example.com", email_marketing_status="subscribed",
                           **HOSTILE)
    db_session.commit()
    link = unsubscribe_url("http://localhost", context.settings(app).secret_key, contact.id, "email")
    assert client.post(link).status_code == 200
    form = {"first_name": "Eve", "last_name": "X", "email": "eve@example.com",
            "email_marketing_status": "subscribed", "sms_marketing_status": "pending",
            "country_code": "", "consent_evidence": "=WEBSERVICE(\"http://evil.example\")"}
    assert post(admin_client, f"/contacts/{contact.id}/edit", form).status_code == 303

    response = _download(admin_client, "/exports/consent-ledger.csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    rows = _rows(response.get_data(as_text=True))
    assert [(r["channel"], r["old_status"], r["new_status"], r["source"], r["actor"]) for r in rows] == [
        ("email", "subscribed", "unsubscribed", "unsubscribe_link", ""),
        ("email", "unsubscribed", "subscribed", "staff_edit", "owner@clinic.example"),
    ]
    assert rows[1]["evidence"] == "'=WEBSERVICE(\"http://evil.example\")"
    assert rows[0]["first_name"] == "Eve" and rows[0]["email"] == "eve@example.com"


def test_staff_cannot_download_exports(staff_client) -> None:
    """Both downloads are admin-only."""
    assert staff_client.get("/exports/consent-ledger.csv").status_code == 403
    assert staff_client.get("/exports/contacts.csv").status_code == 403
