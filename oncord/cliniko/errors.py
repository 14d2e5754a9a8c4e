"""Typed Cliniko failures, each with a short message clinic staff can act on.

`str(exc)` is the technical detail for logs; `exc.user_message` is what a receptionist
sees. Neither ever contains the API key: the client redacts server text before it gets here.
"""

from __future__ import annotations

from collections.abc import Mapping


class ClinikoError(Exception):
    """Base class for everything the Cliniko client raises."""

    default_user_message = (
        "Something went wrong while talking to Cliniko. Try again in a few minutes; "
        "if it keeps happening, contact Oncord support."
    )

    def __init__(
        self,
        detail: str | None = None,
        *,
        status_code: int | None = None,
        user_message: str | None = None,
    ) -> None:
        self.detail = detail or self.default_user_message
        self.status_code = status_code
        self.user_message = user_message or self.default_user_message
        super().__init__(self.detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Subclasses have their own constructor signatures; rebuilding from the instance
        # state keeps every one of them picklable (RQ stores job failures).
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class AuthenticationFailed(ClinikoError):
    """Cliniko answered 401: the API key is wrong, revoked or for another shard."""

    default_user_message = (
        "Cliniko rejected the API key. Check it was copied in full, or create a new key in "
        "Cliniko under My Info → Manage API keys and enter it again."
    )


class PermissionDenied(ClinikoError):
    """Cliniko answered 403: the key's user may not see or change this resource."""

    default_user_message = (
        "The Cliniko user who owns this API key is not allowed to do this. Ask a Cliniko "
        "administrator to give that user more access, or use a key from another user."
    )


class NotFound(ClinikoError):
    """Cliniko answered 404: no such record (or it is hidden, e.g. archived)."""

    default_user_message = (
        "Cliniko could not find this record. It may have been deleted or merged in Cliniko."
    )


class BadRequest(ClinikoError):
    """Cliniko answered 400 (usually a filter or parameter it does not accept)."""

    def __init__(self, message: str | None, *, status_code: int | None = 400) -> None:
        self.message = message or "Bad request"
        super().__init__(
            f"400 Bad Request: {self.message}",
            status_code=status_code,
            user_message=(
                f"Cliniko did not accept Oncord's request ({self.message}). "
                "Please contact Oncord support."
            ),
        )


class ValidationFailed(ClinikoError):
    """Cliniko answered 422: the data sent was not valid; `.errors` maps field to problem."""

    def __init__(
        self,
        message: str | None,
        errors: Mapping[str, str | None] | None = None,
        *,
        status_code: int | None = 422,
    ) -> None:
        self.message = message or "Validation Failed"
        self.errors: dict[str, str | None] = dict(errors or {})
        detail = f"422 {self.message}"
        if self.errors:
            detail += ": " + "; ".join(f"{k}: {v}" for k, v in self.errors.items())
        super().__init__(
            detail,
            status_code=status_code,
            user_message=_validation_user_message(self.message, self.errors),
        )


class RateLimited(ClinikoError):
    """Cliniko kept answering 429 after all retries; `.retry_after` is a hint in seconds."""

    default_user_message = (
        "Cliniko is receiving too many requests from this API key right now. Oncord will try "
        "again automatically; if other apps use the same Cliniko user, that may be the cause."
    )

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: float | None = None,
        status_code: int | None = 429,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(detail, status_code=status_code)


class ClinikoUnavailable(ClinikoError):
    """Cliniko could not be reached or kept failing (5xx, timeouts) after all retries."""

    default_user_message = (
        "Cliniko could not be reached just now. This is usually temporary: Oncord will try "
        "again later, or you can retry in a few minutes."
    )


class WriteOutcomeUnknown(ClinikoUnavailable):
    """A create failed after it may have reached Cliniko, so it was not retried blindly."""

    default_user_message = (
        "Cliniko did not confirm the change in time, so it may or may not have been saved. "
        "Check the record in Cliniko before trying again, to avoid a duplicate."
    )


class MalformedResponse(ClinikoError):
    """Cliniko's reply was not JSON or not shaped as documented."""

    default_user_message = (
        "Cliniko sent a reply Oncord could not understand. Try again later; if it keeps "
        "happening, contact Oncord support."
    )


class MalformedRecord(ClinikoError):
    """One record in an otherwise good reply could not be parsed; skip it and report it."""

    def __init__(self, resource: str, record_id: str | None, reason: str) -> None:
        self.resource = resource
        self.record_id = record_id
        self.reason = reason
        which = f"{resource} {record_id}" if record_id else f"a {resource} record"
        super().__init__(
            f"malformed {resource} record {record_id or '(no id)'}: {reason}",
            user_message=(
                f"Cliniko sent {which} that Oncord could not read, so it was skipped. "
                "The rest of the sync carried on."
            ),
        )


def _rebuild(
    cls: type[ClinikoError], args: tuple[object, ...], state: dict[str, object]
) -> ClinikoError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


def _validation_user_message(message: str, errors: Mapping[str, str | None]) -> str:
    problems = [
        f"{field.replace('_', ' ')} {text}" for field, text in errors.items() if text
    ]
    if problems:
        listed = "; ".join(problems)
        return f"Cliniko did not accept the change: {listed}. Correct it and try again."
    return f"Cliniko did not accept the change ({message}). Correct it and try again."
