"""What can go wrong when handing a message to a provider, sorted by what to do about it."""

from __future__ import annotations


class SendError(Exception):
    """A message the provider did not take; `message` is the provider's words, for staff."""

    # Whether trying again later may work (and cannot send twice).
    retryable = False
    # Whether the provider may have taken the message although we saw an error.
    ambiguous = False

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
