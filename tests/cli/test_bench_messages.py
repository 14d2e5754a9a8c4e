"""`flask bench reminders` and `flask bench campaign` at a tiny size: poison fails alone, none twice."""

from __future__ import annotations

import os
import re

import pytest

from oncord import create_app
from oncord.db import get_database

pytestmark = pytest.mark.slow


def _bench_database(request: pytest.FixtureRequest, name: str) -> list[str]:
    """The bench's database options for this half of the suite (SQLite, or a scratch PostgreSQL)."""
    if request.config.getoption("--db") != "postgresql":
        return ["--db", "sqlite"]
    admin_url = request.getfixturevalue("postgres_admin_url")
    return ["--db", "postgresql", "--postgres-url", admin_url, "--database", f"{name}_{os.getpid()}"]


@pytest.mark.parametrize("args", [
    ["reminders", "--due", "50", "--workers", "1", "--batch-size", "20"],
    ["campaign", "--recipients", "50", "--channel", "email"],
    ["campaign", "--recipients", "50", "--channel", "sms"],
], ids=["reminders", "campaign-email", "campaign-sms"])
def test_a_bench_with_poison_sends_every_good_message_once_and_fails_each_poisoned_one(
    request, redis_url, tmp_path, args
):
    """With 4 % poison (2 contacts of 50), the good messages all go exactly once, the poisoned fail,
    and the floor is measured in the same run."""
    app = create_app({"mode": "demo", "database_url": f"sqlite:///{tmp_path / 'unused.db'}",
                      "redis_url": redis_url})
    try:
        with app.app_context():  # as `flask --app ...` pushes one
            result = app.test_cli_runner().invoke(args=[
                "bench", *args, "--poison-percent", "4", "--redis-url", redis_url,
                *_bench_database(request, f"oncord_bench_{args[0]}_test")])
    finally:
        get_database(app).engine.dispose()
    assert result.exit_code == 0, (result.output, repr(result.exception))
    per_contact = 2 if args[0] == "reminders" else 1
    good, poison = 48 * per_contact, 2 * per_contact
    assert f"good sent: {good} of {good}; poison failed: {poison} of {poison}" in result.output
    assert "0 sent twice; every good message exactly once: yes" in result.output
    assert re.search(r"floor: .* s .* bench / floor = [0-9.]+", result.output), result.output
    assert "result: OK" in result.output
