"""What stands before every /v1 request: user agent, API key, Accept, holds, injected faults, rate limit."""

from __future__ import annotations

import math
import re
import time

from flask import Response, request

from oncord.sandbox.responses import json_response, server_error_page, text, validation_failed
from oncord.sandbox.store import SandboxStore

# "Name (email)": some name, then an e-mail address in brackets.
_USER_AGENT = re.compile(r"\S[^()]*\(\s*[^\s()@]+@[^\s()@]+\.[^\s()@]+\s*\)")
_INVALID_JSON_BODY = b'{"patients":[{"id":"1389004381927014400","first_name":"Tru'


def key_matches(username: str, key_body: str, shard: str) -> bool:
    """Whether an API key is ours: with our shard's suffix or, like an old key, none at all."""
    if username == key_body:
        return True
    body, sep, suffix = username.rpartition("-")
    # A key for another shard is unknown here, exactly as on the wrong Cliniko host.
    return bool(sep) and body == key_body and suffix == shard


def check(store: SandboxStore, key_body: str) -> Response | None:
    """Refuse the request as Cliniko would, or apply an injected fault; None lets it through."""
    if not _USER_AGENT.search(request.headers.get("User-Agent", "")):
        return text("Requires a user agent", 403)
    auth = request.authorization
    if auth is None or auth.type != "basic" or not key_matches(
        auth.username or "", key_body, store.shard
    ):
        return text(
            "HTTP Basic: Access denied.\n", 401,
            {"WWW-Authenticate": 'Basic realm="Application"'},
        )
    accept = request.headers.get("Accept", "").strip()
    if accept and request.accept_mimetypes.quality("application/json") <= 0:
        return text("Not Acceptable: this API only serves application/json", 406)
    # A held request waits here, then meets faults and the rate limit like any other.
    store.holds.pass_through(request.method, request.path)
    refusal = _fault(store)
    if refusal is not None:
        return refusal
    reset = store.rate_limiter.hit(key_body, store.now_float())
    if reset is not None:
        # Like Cliniko: the reset time only, no Retry-After or remaining-count headers.
        return text("Retry later\n", 429, {"X-RateLimit-Reset": str(reset)})
    return None


def _fault(store: SandboxStore) -> Response | None:
    fault = store.faults.take(request.method, request.path)
    if fault is None:
        return None
    if fault.kind == "slow":
        time.sleep(fault.delay)
        return None
    if fault.kind == "rate_limit":
        reset = math.ceil(store.now_float() + fault.reset_in)
        return text("Retry later\n", 429, {"X-RateLimit-Reset": str(reset)})
    if fault.kind == "server_error":
        return server_error_page(fault.status)
    if fault.kind == "validation":
        return validation_failed({fault.field: fault.message})
    response = json_response(None)
    response.set_data(_INVALID_JSON_BODY)  # invalid_json: a body cut off mid-record
    return response
