"""Reading Cliniko's list envelope and following its `links.next` safely."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from oncord.cliniko.errors import MalformedResponse

# Path segments that qualify a list rather than name it (/practitioners/inactive) or that
# are legacy sub-lists (/patients/archived).
_QUALIFIER_SEGMENTS = frozenset({"inactive", "archived", "deleted", "cancelled", "v1"})
_ENVELOPE_KEYS = frozenset({"links", "total_entries", "total_entires"})


@dataclass(frozen=True)
class Page:
    """One page of a Cliniko list: its raw items and the total over all pages."""

    items: list[dict[str, Any]]
    total_entries: int | None
    page_number: int
    url: str
    next_url: str | None


def collection_key_for_path(path: str) -> str | None:
    """Return the envelope key for a list path, e.g. "practitioners" for /practitioners/inactive."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    for segment in reversed(segments):
        if segment.isdigit() or segment in _QUALIFIER_SEGMENTS:
            continue
        return segment
    return None


def read_page(
    envelope: object, *, expected_key: str | None, url: str, page_number: int
) -> Page:
    """Return a list envelope as a Page, raising MalformedResponse if it is not one."""
    if not isinstance(envelope, dict):
        raise MalformedResponse(f"list reply from {_path_of(url)} is not a JSON object")
    key = _pick_collection_key(envelope, expected_key, url)
    items = envelope[key]
    if not isinstance(items, list):
        raise MalformedResponse(f"'{key}' in reply from {_path_of(url)} is not a list")
    links = envelope.get("links")
    next_url = links.get("next") if isinstance(links, dict) else None
    if next_url is not None and not isinstance(next_url, str):
        raise MalformedResponse(f"links.next in reply from {_path_of(url)} is not a URL")
    return Page(
        items=items,
        total_entries=_total_entries(envelope),
        page_number=page_number,
        url=url,
        next_url=next_url or None,
    )


def next_page_url(
    link: str, *, base_url: str, required_params: Sequence[tuple[str, str]]
) -> str:
    """Return `link` re-homed on `base_url`'s host with any of our query parameters it dropped."""
    base = urlsplit(base_url)
    target = urlsplit(link)
    if target.scheme and target.scheme not in ("http", "https"):
        raise MalformedResponse("links.next is not an http(s) URL")
    # Only the path and query are taken from the link: the scheme and host stay ours, so the
    # API key is never sent to a host we were not configured with (e.g. the legacy bare
    # api.cliniko.com host, or anything else a broken reply might name).
    query = parse_qsl(target.query, keep_blank_values=True)
    present = set(query)
    present_names = {name for name, _ in query}
    for name, value in required_params:
        if name == "q[]":
            # Filters are AND-ed, so a link that lost one would silently widen or narrow
            # the result; put back any that are missing.
            if (name, value) not in present:
                query.append((name, value))
        elif name not in present_names:
            # Cliniko once dropped per_page from its links (issue #16); keep ours.
            query.append((name, value))
    return urlunsplit((base.scheme, base.netloc, target.path, urlencode(query), ""))


def _pick_collection_key(envelope: dict[str, Any], expected: str | None, url: str) -> str:
    if expected and expected in envelope:
        return expected
    candidates = [k for k, v in envelope.items() if k not in _ENVELOPE_KEYS and isinstance(v, list)]
    if len(candidates) == 1:
        return candidates[0]
    raise MalformedResponse(
        f"reply from {_path_of(url)} has no '{expected}' list"
        if expected
        else f"cannot tell which list in the reply from {_path_of(url)} holds the records"
    )


def _total_entries(envelope: dict[str, Any]) -> int | None:
    # The legacy businesses example spells it "total_entires"; accept that as a fallback.
    for key in ("total_entries", "total_entires"):
        value = envelope.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    # Anything else (e.g. the docs' practitioners example, which shows an id string here) is
    # not a trustworthy count, so the total is reported as unknown rather than guessed.
    return None


def _path_of(url: str) -> str:
    # Error text names the endpoint only: never the query string, which may hold patient data.
    path = urlsplit(url).path
    return re.sub(r"/\d+(?=/|$)", "/{id}", path) or "/"
