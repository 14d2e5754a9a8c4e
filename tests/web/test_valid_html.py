"""Every staff and public page is valid HTML by the W3C Nu checker (vnu.jar), when Java and the jar are here.

CI fetches the jar from the npm registry (`.ci/run`: `npm pack vnu-jar@26.9.27`); elsewhere point
ONCORD_VNU_JAR at a vnu.jar, or the test is skipped with one line saying what is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from oncord.context import settings
from oncord.feedback.tokens import make_token
from tests.browser.staff_pages import ADMIN, seed_every_screen
from tests.web.conftest import log_in

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = Path(os.environ.get("ONCORD_VNU_JAR", ROOT / ".cache/vnu/package/build/dist/vnu.jar"))


def _checker() -> list[str]:
    java = shutil.which("java")
    if not java:
        pytest.skip("W3C Nu check skipped: no `java` on PATH (Java 17 or later)")
    if not VNU_JAR.exists():
        pytest.skip(f"W3C Nu check skipped: {VNU_JAR} not found (`npm pack vnu-jar`, or set ONCORD_VNU_JAR)")
    return [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json"]


def test_every_page_is_valid_html(client, db_session, clock, tmp_path) -> None:
    """The Nu checker finds no error on any staff screen, the login page or a public page."""
    command = _checker()
    screens = seed_every_screen(db_session, clock)
    feedback = make_token(settings(client.application).secret_key, 1, "automation-preview")
    pages = {"login": client.get("/login"), "public page": client.get("/book-online"),
             "feedback page": client.get(f"/f/{feedback}/7")}
    log_in(client, ADMIN)
    pages.update({name: client.get(path) for name, path in screens.items()})
    for name, response in pages.items():
        assert response.status_code == 200, (name, response.status_code)
        (tmp_path / (name.replace(" ", "-") + ".html")).write_bytes(response.data)
    result = subprocess.run([*command, *(str(p) for p in tmp_path.glob("*.html"))],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or "{}").get("messages", [])
    errors = [f"{Path(m.get('url', '')).stem}:{m.get('lastLine')}: {m.get('message')}"
              for m in messages if m.get("type") == "error"]
    assert not errors, "\n".join(errors[:40]) + f"\n({len(errors)} errors)"
