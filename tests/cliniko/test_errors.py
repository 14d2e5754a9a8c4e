"""Typed errors: actionable user messages, field errors, picklable for RQ."""

from __future__ import annotations

import pickle

import pytest

from oncord.cliniko.errors import (
    AuthenticationFailed,
    BadRequest,
    ClinikoError,
    ClinikoUnavailable,
    MalformedRecord,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
    WriteOutcomeUnknown,
)
from tests.cliniko.conftest import example


@pytest.mark.parametrize(
    "error",
    [
        ClinikoError("x"),
        AuthenticationFailed("401"),
        PermissionDenied("403"),
        NotFound("404"),
        BadRequest("This column is not searchable."),
        ValidationFailed("Validation Failed", {"first_name": "can't be blank"}),
        RateLimited("429", retry_after=12.0),
        ClinikoUnavailable("503"),
        WriteOutcomeUnknown("timeout"),
        MalformedResponse("not json"),
        MalformedRecord("patient", "123", "created_at is missing"),
    ],
)
def test_every_error_has_a_short_user_message_and_pickles(error):
    """Each error carries a user message, is a ClinikoError, and survives pickling (RQ)."""
    assert isinstance(error, ClinikoError)
    assert error.user_message and len(error.user_message) < 300
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.user_message == error.user_message


def test_authentication_message_points_at_the_key():
    """A 401 tells staff what to do about the key."""
    assert AuthenticationFailed().user_message.startswith("Cliniko rejected the API key")


def test_validation_failed_from_real_422_with_null_error():
    """Issue #349's body: field messages kept, a null message kept as None."""
    body = example("error_422_validation_issue349.json")
    error = ValidationFailed(body["message"], body["errors"])
    assert error.message == "Validation Failed"
    assert error.errors == {"name": "can’t be blank", "patient": "can’t be blank", "content": None}
    assert "name can’t be blank" in error.user_message
    assert "content" not in error.user_message
    assert error.status_code == 422


def test_validation_failed_message_only():
    """Issue #254's message-only 422 gives an empty errors dict and still reads well."""
    body = example("error_422_message_only_issue254.json")
    error = ValidationFailed(body["message"], body.get("errors"))
    assert error.errors == {}
    assert "must be an object" in error.user_message


def test_bad_request_carries_clinikos_message():
    """Issue #231's 400 message reaches both the detail and the user message."""
    error = BadRequest(example("error_400_not_searchable_issue231.json")["message"])
    assert error.message == "This column is not searchable."
    assert "This column is not searchable." in str(error)
    assert "This column is not searchable." in error.user_message


def test_write_outcome_unknown_is_a_kind_of_unavailable():
    """Callers that only handle ClinikoUnavailable still catch an ambiguous create."""
    assert issubclass(WriteOutcomeUnknown, ClinikoUnavailable)
    assert "duplicate" in WriteOutcomeUnknown().user_message


def test_malformed_record_names_record_not_data():
    """A skipped record is reported by resource and id."""
    error = MalformedRecord("patient", "42", "date_of_birth is not a YYYY-MM-DD date")
    assert (error.resource, error.record_id) == ("patient", "42")
    assert "patient 42" in error.user_message
