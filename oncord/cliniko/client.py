"""HTTP client for Cliniko's REST API: auth, pacing, retries, pagination and typed errors.

Policy, per logical request (at most `max_attempts` sends, all paced by the budget):
- every send, retries and pages included, first takes one request from the budget it was
  given (`oncord.budget`: shared in Redis by every process using the same key);
- 429: wait until X-RateLimit-Reset (capped at one minute) and/or Retry-After, plus
  0.25-1.25 s jitter, else exponential backoff; a Retry-After over five minutes raises
  RateLimited at once; out of attempts -> RateLimited. A create is retried too: a 429
  means Cliniko did not process it;
- 5xx, timeouts, dropped connections on GET/PATCH: backoff of about 1, 2, 4, 8, 16 s (equal
  jitter, capped at 30 s) and retry; out of attempts -> ClinikoUnavailable;
- the same on POST (create) is NOT retried, because the patient may already exist:
  WriteOutcomeUnknown. Only failures that certainly never reached Cliniko (connection
  refused, connect timeout) are retried for POST;
- other 4xx map to typed errors at once, never retried; redirects are reported, not followed.

Imports requests only (plus urllib3, requests' own transport, for one exception type), so
it can run in web requests, RQ jobs and scripts alike.
"""

from __future__ import annotations

import base64
import email.utils
import json
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from oncord.cliniko.errors import (
    AuthenticationFailed,
    BadRequest,
    ClinikoError,
    ClinikoUnavailable,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
    WriteOutcomeUnknown,
)
from oncord.cliniko.limiter import RequestBudget, Unlimited
from oncord.cliniko.pagination import Page, collection_key_for_path, next_page_url, read_page
from oncord.cliniko.shards import locate, web_base_url

__all__ = ["ClientStats", "ClinikoClient", "ConnectionInfo", "Page", "format_filter_time"]

ARCHIVED_VISIBLE = "archived_at:*"
CANCELLED_VISIBLE = "cancelled_at:*"

# Backoff for 5xx/timeouts: "equal jitter" around 1, 2, 4, 8... seconds, capped.
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
# Cliniko's window is one minute, so a reset further away than this means our clock and
# theirs disagree; waiting a full window is then the right amount.
MAX_RESET_WAIT_SECONDS = 60.0
# A Retry-After longer than this is not slept through inside a job: RateLimited is raised
# with .retry_after so the caller can reschedule instead.
MAX_RETRY_AFTER_SECONDS = 300.0

_USER_AGENT_SHAPE = re.compile(r".*\S.*\(\s*[^\s()@]+@[^\s()@]+\.[^\s()@]+\s*\)\s*")
_ID_SHAPE = re.compile(r"[0-9]+")


@dataclass
class ClientStats:
    """Counters a caller can read to report on or tune a sync run."""

    requests_made: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    throttle_waits: int = 0
    seconds_waited: float = 0.0


@dataclass(frozen=True)
class ConnectionInfo:
    """What a working API key tells us about the Cliniko account and its user."""

    shard: str
    account_subdomain: str | None
    account_name: str | None
    user_id: str | None
    user_name: str
    user_email: str | None
    time_zone_identifier: str | None
    time_zone: str | None

    @property
    def web_base_url(self) -> str | None:
        """Return the account's Cliniko web-app address, when the subdomain is known."""
        if not self.account_subdomain:
            return None
        return web_base_url(self.account_subdomain, self.shard)


def format_filter_time(moment: datetime) -> str:
    """Return `moment` as Cliniko's filter timestamp, e.g. 2024-05-01T03:00:00Z (whole seconds)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Cliniko filter times must be timezone-aware")
    # Truncating to the second errs early, which is safe with a ">=" filter.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClinikoClient:
    """One API key's connection to Cliniko, paced and retried as Cliniko asks."""

    def __init__(
        self,
        api_key: str,
        *,
        user_agent: str,
        base_url: str | None = None,
        session: requests.Session | None = None,
        timeout: float = 30,
        budget: RequestBudget | None = None,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        key = (api_key or "").strip()
        if not key:
            raise ValueError("a Cliniko API key is required")
        if not _USER_AGENT_SHAPE.fullmatch(user_agent or ""):
            # Cliniko may block requests without a name and contact address in the UA.
            raise ValueError("user_agent must look like 'App Name (contact@example.com)'")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.shard, self.base_url = locate(key, base_url)
        self.user_agent = user_agent.strip()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.stats = ClientStats()
        self._auth = (key, "")
        self._secrets = _secret_forms(key)
        self._session = session if session is not None else requests.Session()
        self._owns_session = session is None
        self._sleep = sleep
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._budget: RequestBudget = budget if budget is not None else Unlimited()

    def __repr__(self) -> str:
        return f"ClinikoClient(shard={self.shard!r}, base_url={self.base_url!r})"

    def __enter__(self) -> ClinikoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self._session.close()

    # ----- lists -------------------------------------------------------------------------

    def iter_pages(
        self,
        path: str,
        *,
        filters: Sequence[str] = (),
        per_page: int = 100,
        sort: str | None = None,
    ) -> Iterator[Page]:
        """Yield each page of a list endpoint, following `links.next` until it is absent."""
        if isinstance(filters, str):
            raise TypeError("filters must be a sequence of 'field:opvalue' strings, not one string")
        if not 1 <= per_page <= 100:
            raise ValueError("per_page must be between 1 and 100")
        params: list[tuple[str, str]] = [("per_page", str(per_page))]
        params += [("q[]", f) for f in filters]
        if sort:
            params.append(("sort", sort))
        expected_key = collection_key_for_path(path)
        url: str = self._url(path)
        request_params: list[tuple[str, str]] | None = params
        seen: set[str] = set()
        page_number = 1
        while True:
            response = self._request("GET", url, params=request_params)
            page = read_page(
                self._json(response),
                expected_key=expected_key,
                url=response.url or url,
                page_number=page_number,
            )
            seen.add(page.url)
            yield page
            if page.next_url is None:
                return
            url = next_page_url(page.next_url, base_url=self.base_url, required_params=params)
            if url in seen:
                raise MalformedResponse(f"pagination of {path} loops back to a page already read")
            seen.add(url)
            request_params = None
            page_number += 1

    def iter_patients(
        self, updated_since: datetime | None = None, *, per_page: int = 100
    ) -> Iterator[Page]:
        """Yield pages of patients, archived ones included, optionally changed since a time."""
        return self.iter_pages(
            "/patients", filters=_with_updated_since([ARCHIVED_VISIBLE], updated_since),
            per_page=per_page,
        )

    def iter_individual_appointments(
        self, updated_since: datetime | None = None, *, per_page: int = 100
    ) -> Iterator[Page]:
        """Yield pages of individual appointments, archived and cancelled ones included."""
        filters = _with_updated_since([ARCHIVED_VISIBLE, CANCELLED_VISIBLE], updated_since)
        return self.iter_pages("/individual_appointments", filters=filters, per_page=per_page)

    def iter_group_appointments(
        self, updated_since: datetime | None = None, *, per_page: int = 100
    ) -> Iterator[Page]:
        """Yield pages of group appointments (classes), archived ones included.

        Cliniko has no `cancelled_at` on classes: attendees are cancelled, not the class.
        """
        filters = _with_updated_since([ARCHIVED_VISIBLE], updated_since)
        return self.iter_pages("/group_appointments", filters=filters, per_page=per_page)

    def iter_attendees(
        self, updated_since: datetime | None = None, *, per_page: int = 100
    ) -> Iterator[Page]:
        """Yield pages of every attendee, archived and cancelled ones included.

        The listing also holds one attendee per individual appointment; one incremental
        listing costs far fewer requests than asking each class for its attendees.
        """
        filters = _with_updated_since([ARCHIVED_VISIBLE, CANCELLED_VISIBLE], updated_since)
        return self.iter_pages("/attendees", filters=filters, per_page=per_page)

    def iter_practitioners(self, *, per_page: int = 100) -> Iterator[Page]:
        """Yield pages of active practitioners."""
        return self.iter_pages("/practitioners", per_page=per_page)

    def iter_inactive_practitioners(self, *, per_page: int = 100) -> Iterator[Page]:
        """Yield pages of inactive practitioners (Cliniko lists them separately)."""
        return self.iter_pages("/practitioners/inactive", per_page=per_page)

    def iter_appointment_types(self, *, per_page: int = 100) -> Iterator[Page]:
        """Yield pages of appointment types, archived ones included."""
        return self.iter_pages("/appointment_types", filters=[ARCHIVED_VISIBLE], per_page=per_page)

    def iter_businesses(self, *, per_page: int = 100) -> Iterator[Page]:
        """Yield pages of businesses (clinic locations), archived ones included."""
        return self.iter_pages("/businesses", filters=[ARCHIVED_VISIBLE], per_page=per_page)

    # ----- single records ----------------------------------------------------------------

    def get_user(self) -> dict[str, Any]:
        """Return the Cliniko user who owns the API key (GET /user)."""
        return self._get_object("/user")

    def get_public_settings(self) -> dict[str, Any]:
        """Return the account's public settings, readable by any user (GET /settings/public)."""
        return self._get_object("/settings/public")

    def get_patient(self, patient_id: str) -> dict[str, Any]:
        """Return one patient, even if archived."""
        return self._get_object(f"/patients/{_id(patient_id)}", [("q[]", ARCHIVED_VISIBLE)])

    def get_individual_appointment(self, appointment_id: str) -> dict[str, Any]:
        """Return one individual appointment, even if archived or cancelled."""
        return self._get_object(
            f"/individual_appointments/{_id(appointment_id)}",
            [("q[]", ARCHIVED_VISIBLE), ("q[]", CANCELLED_VISIBLE)],
        )

    def get_attendee(self, attendee_id: str) -> dict[str, Any]:
        """Return one attendee, even if archived or cancelled."""
        return self._get_object(
            f"/attendees/{_id(attendee_id)}", [("q[]", ARCHIVED_VISIBLE), ("q[]", CANCELLED_VISIBLE)]
        )

    def get_group_appointment(self, group_appointment_id: str) -> dict[str, Any]:
        """Return one group appointment, even if archived."""
        return self._get_object(
            f"/group_appointments/{_id(group_appointment_id)}", [("q[]", ARCHIVED_VISIBLE)]
        )

    def create_patient(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create a patient and return it as Cliniko stored it (never retried blindly)."""
        return self._object_from(self._request("POST", self._url("/patients"), body=fields))

    def update_patient(self, patient_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Change a patient with PATCH and return the updated record."""
        url = self._url(f"/patients/{_id(patient_id)}")
        return self._object_from(self._request("PATCH", url, body=fields))

    def check_connection(self) -> ConnectionInfo:
        """Prove the key works and return the account and user it belongs to."""
        user = self.get_user()
        settings = self.get_public_settings()
        raw_account = settings.get("account")
        account: dict[str, Any] = raw_account if isinstance(raw_account, dict) else {}
        names = [user.get("first_name"), user.get("last_name")]
        return ConnectionInfo(
            shard=self.shard,
            account_subdomain=_str_or_none(account.get("subdomain")),
            account_name=_str_or_none(account.get("name")),
            user_id=_str_or_none(user.get("id")),
            user_name=" ".join(n.strip() for n in names if isinstance(n, str) and n.strip()),
            user_email=_str_or_none(user.get("email")),
            time_zone_identifier=_str_or_none(user.get("time_zone_identifier")),
            time_zone=_str_or_none(user.get("time_zone")),
        )

    # ----- transport ---------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("API paths start with '/', e.g. '/patients'")
        return self.base_url + path

    def _get_object(
        self, path: str, params: list[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        return self._object_from(self._request("GET", self._url(path), params=params))

    def _object_from(self, response: requests.Response) -> dict[str, Any]:
        data = self._json(response)
        if not isinstance(data, dict):
            raise MalformedResponse(
                f"reply from {_path_of(response.url)} is not a JSON object",
                status_code=response.status_code,
            )
        return data

    def _json(self, response: requests.Response) -> Any:
        data = _json_or_none(response)
        if data is None:
            # Raised here, not inside an except block, so the decoder error (which holds
            # the whole reply body) is not attached to ours.
            content_type = response.headers.get("Content-Type", "unknown type")
            raise MalformedResponse(
                f"reply from {_path_of(response.url)} was not JSON "
                f"(HTTP {response.status_code}, {content_type})",
                status_code=response.status_code,
            )
        return data

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: dict[str, Any] | None = None,
    ) -> requests.Response:
        """Send one logical request, pacing, waiting and retrying as the policy allows."""
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        # POST creates: re-sending after an ambiguous failure could create a duplicate.
        # GET is safe, and PATCH with the same body leaves the same end state.
        idempotent = method != "POST"
        attempt = 0
        while True:
            attempt += 1
            waited = self._budget.acquire()
            if waited:
                self.stats.throttle_waits += 1
                self.stats.seconds_waited += waited
            self.stats.requests_made += 1
            failure: ClinikoError | None = None
            retryable = False
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=self._auth,
                    timeout=self.timeout,
                    # A redirect would drop auth or turn a POST into a GET; we always call
                    # the sharded host, so any redirect is reported instead of followed.
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                retryable, failure = self._transport_failure(exc, method, url)
            # Raised outside the except block so the requests exception (whose .request
            # carries the Authorization header) is not chained onto ours.
            if failure is not None:
                if retryable and attempt < self.max_attempts:
                    self._pause(self._backoff(attempt))
                    continue
                raise failure

            status = response.status_code
            if 200 <= status < 300:
                return response
            if status == 429:
                wait = self._rate_limit_wait(response, attempt)
                if wait is None or attempt >= self.max_attempts:
                    raise RateLimited(
                        f"429 from {_path_of(url)} after {attempt} attempt(s)",
                        retry_after=self._retry_after_hint(response),
                    )
                self.stats.rate_limit_waits += 1
                self._pause(wait)
                continue
            if status >= 500:
                detail = f"HTTP {status} from {method} {_path_of(url)}"
                if not idempotent:
                    raise WriteOutcomeUnknown(detail, status_code=status)
                if attempt >= self.max_attempts:
                    raise ClinikoUnavailable(
                        f"{detail} after {attempt} attempt(s)", status_code=status
                    )
                retry_after = _retry_after_seconds(
                    response.headers.get("Retry-After"), self._clock()
                )
                wait = self._backoff(attempt)
                if retry_after is not None and retry_after <= MAX_RETRY_AFTER_SECONDS:
                    wait = max(wait, retry_after)
                self._pause(wait)
                continue
            raise self._error_for(response, method, url)

    def _pause(self, seconds: float) -> None:
        self.stats.retries += 1
        self.stats.seconds_waited += seconds
        self._sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _jitter(self) -> float:
        # Spreads clients that were all told the same reset second.
        return 0.25 + self._rng.random()

    def _rate_limit_wait(self, response: requests.Response, attempt: int) -> float | None:
        """Return how long to wait after a 429, or None if it is too long to wait in-process."""
        now = self._clock()
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"), now)
        if retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS:
            return None
        reset = _float_or_none(response.headers.get("X-RateLimit-Reset"))
        waits = []
        if reset is not None:
            waits.append(min(max(reset - now, 0.0), MAX_RESET_WAIT_SECONDS))
        if retry_after is not None:
            waits.append(retry_after)
        if not waits:
            return self._backoff(attempt)
        # Both headers present: satisfy both.
        return max(waits) + self._jitter()

    def _retry_after_hint(self, response: requests.Response) -> float | None:
        now = self._clock()
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"), now)
        if retry_after is not None:
            return retry_after
        reset = _float_or_none(response.headers.get("X-RateLimit-Reset"))
        return None if reset is None else max(reset - now, 0.0)

    def _transport_failure(
        self, exc: requests.RequestException, method: str, url: str
    ) -> tuple[bool, ClinikoError]:
        detail = f"{method} {_path_of(url)}: {type(exc).__name__}: {self._redact(str(exc))}"
        transient = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        )
        if isinstance(exc, transient):
            if method == "POST" and not _never_reached_server(exc):
                return False, WriteOutcomeUnknown(detail)
            return True, ClinikoUnavailable(detail)
        return False, ClinikoError(
            detail,
            user_message=(
                "Oncord could not send the request to Cliniko. Check the Cliniko connection "
                "settings, or contact Oncord support."
            ),
        )

    def _error_for(self, response: requests.Response, method: str, url: str) -> ClinikoError:
        status = response.status_code
        where = f"{method} {_path_of(url)}"
        payload = _json_or_none(response)
        message = None
        if isinstance(payload, dict) and isinstance(payload.get("message"), str):
            message = self._redact(payload["message"])
        if status == 400:
            return BadRequest(message or self._snippet(response))
        if status == 401:
            return AuthenticationFailed(f"401 from {where}", status_code=status)
        if status == 403:
            return PermissionDenied(f"403 from {where}", status_code=status)
        if status == 404:
            return NotFound(f"404 from {where}", status_code=status)
        if status == 422:
            errors = payload.get("errors") if isinstance(payload, dict) else None
            return ValidationFailed(message, self._field_errors(errors))
        if 300 <= status < 400:
            location = urlsplit(response.headers.get("Location", "")).netloc or "elsewhere"
            return ClinikoError(
                f"HTTP {status} redirect from {where} to {location}; check the API base URL",
                status_code=status,
            )
        return ClinikoError(
            f"HTTP {status} from {where}: {message or self._snippet(response)}",
            status_code=status,
        )

    def _field_errors(self, errors: object) -> dict[str, str | None]:
        if not isinstance(errors, dict):
            return {}
        result: dict[str, str | None] = {}
        for field, problem in errors.items():
            if problem is None:
                result[str(field)] = None
            elif isinstance(problem, list):
                # Rails apps sometimes send a list of messages per field.
                result[str(field)] = self._redact("; ".join(str(p) for p in problem))
            else:
                result[str(field)] = self._redact(str(problem))
        return result

    def _snippet(self, response: requests.Response) -> str:
        text = response.content[:200].decode("utf-8", errors="replace").strip()
        return self._redact(text) or f"empty HTTP {response.status_code} reply"

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def _with_updated_since(filters: list[str], updated_since: datetime | None) -> list[str]:
    if updated_since is None:
        return filters
    # ">=" rather than ">": timestamps are whole seconds, so a record changed in the same
    # second as the cursor would otherwise be missed; seeing one twice is harmless.
    return [*filters, f"updated_at:>={format_filter_time(updated_since)}"]


def _id(record_id: str) -> str:
    if not isinstance(record_id, str):
        raise TypeError("Cliniko ids are strings; never pass them as numbers")
    if not _ID_SHAPE.fullmatch(record_id):
        raise ValueError("a Cliniko id is a string of digits")
    return quote(record_id, safe="")


def _secret_forms(key: str) -> list[str]:
    forms = {key, base64.b64encode(f"{key}:".encode()).decode("ascii")}
    head, hyphen, _ = key.rpartition("-")
    # The key also authenticates without its shard suffix, so that form is secret too.
    if hyphen and len(head) >= 8:
        forms.add(head)
    return sorted(forms, key=len, reverse=True)


def _never_reached_server(exc: requests.RequestException) -> bool:
    """Return whether the request certainly was not sent (so even a POST may be retried)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", None)
        return isinstance(reason, NewConnectionError)
    return False


def _retry_after_seconds(value: str | None, now: float) -> float | None:
    if not value:
        return None
    seconds = _float_or_none(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)


def _float_or_none(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _str_or_none(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def _path_of(url: str | None) -> str:
    # Errors name the endpoint only: the query string can carry filters with patient data.
    return urlsplit(url or "").path or "/"
