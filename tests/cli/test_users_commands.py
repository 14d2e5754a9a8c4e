"""`flask users create`."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash

from oncord.models import User


def test_create_with_password(cli, db_session) -> None:
    """--password and --admin create an admin with a scrypt hash."""
    result = cli.invoke(args=["users", "create", "--email", "Boss@Clinic.example", "--password",
                              "a long password", "--admin"])
    assert result.exit_code == 0, result.output
    assert "Created admin boss@clinic.example" in result.output
    user = db_session.scalars(select(User)).one()
    assert user.role == "admin" and user.password_hash.startswith("scrypt:")
    assert check_password_hash(user.password_hash, "a long password")


def test_create_prompts_for_the_password(cli, db_session) -> None:
    """Without --password the password is asked for twice and not echoed; the user is staff."""
    result = cli.invoke(args=["users", "create", "--email", "desk@clinic.example"],
                        input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "a long password" not in result.output
    assert db_session.scalars(select(User)).one().role == "staff"


def test_duplicate_or_weak_is_an_error(cli, db_session) -> None:
    """A taken e-mail or a short password fails with a message and exit code 1."""
    cli.invoke(args=["users", "create", "--email", "a@clinic.example", "--password", "a long password"])
    again = cli.invoke(args=["users", "create", "--email", "A@clinic.example",
                             "--password", "a long password"])
    assert again.exit_code == 1 and "already a user" in again.output
    weak = cli.invoke(args=["users", "create", "--email", "b@clinic.example", "--password", "short"])
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
