"""Cliniko API client: shards, HTTP client, typed errors and payload parsing (requests only)."""

from __future__ import annotations

from oncord.cliniko.client import ClientStats, ClinikoClient, ConnectionInfo, format_filter_time
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
from oncord.cliniko.pagination import Page

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "ClientStats",
    "ClinikoClient",
    "ClinikoError",
    "ClinikoUnavailable",
    "ConnectionInfo",
    "MalformedRecord",
    "MalformedResponse",
    "NotFound",
    "Page",
    "PermissionDenied",
    "RateLimited",
    "ValidationFailed",
    "WriteOutcomeUnknown",
    "format_filter_time",
]
