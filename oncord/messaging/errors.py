"""What can go wrong when handing a message to a provider, sorted by what to do about it."""

from __future__ import annotations


class SendError(Exception):
    """A message the provider did not take; `message` is the provider's words, for staff."""

    # Whether trying again later may work (and cannot send twice).
    retryable = False
    # Whether the provider may have taken the message although we saw an error.
    ambiguous = False
    # Whether every other message would fail the same way (stop the batch, keep them pending).
    halts = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemporaryFailure(SendError):
    """Refused for now (4xx SMTP reply, HTTP 429/5xx, no connection): retry with backoff."""

    retryable = True


class PermanentFailure(SendError):
    """Refused for good (bad address, bad credentials, rejected content): do not retry."""


class UnknownOutcome(SendError):
    """The connection broke after the message was handed over: it may have gone, so never retry."""

    ambiguous = True


class NotConfigured(PermanentFailure):
    """The channel has no provider or sender set up."""


class LoginRefused(NotConfigured):
    """The provider refused our credentials or we refused its certificate: nothing can go until an
    admin fixes it, so the batch or campaign stops with this one message and nothing is failed."""

    halts = True


class MessageProblem(ValueError):
    """One message cannot be built (its template, its address, the clinic's zone or link):
    that message fails with these words and every other message goes on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidAddress(MessageProblem):
    """The recipient's address is not one valid mailbox or number."""


def failure_text(exc: BaseException) -> str:
    """Why one message failed, in words staff read (never a traceback)."""
    if isinstance(exc, MessageProblem | SendError):
        return exc.message
    return (
        f"Something unexpected went wrong preparing this message ({type(exc).__name__}); it was not "
        "sent. The other messages went on. Ask Oncord support if it keeps happening."
    )


def as_send_error(exc: BaseException) -> SendError:
    """A provider's error as a SendError; anything unexpected may have gone, so it is never retried."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, MessageProblem):
        return PermanentFailure(exc.message)
    return UnknownOutcome(
        f"Something unexpected went wrong while handing this message over ({type(exc).__name__}); it may "
        "or may not have been delivered, so it was not sent again."
    )
