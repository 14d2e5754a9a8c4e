"""Where a Cliniko account lives: its shard, API host and web-app host."""

from __future__ import annotations

import re
from urllib.parse import quote

DEFAULT_SHARD = "au1"

# Cliniko adds shards over time (au5 and us1 appeared after the docs' list), so any value
# shaped like a shard is accepted rather than checked against a fixed list.
_SHARD_PATTERN = re.compile(r"\w{2}\d{1,2}", re.IGNORECASE | re.ASCII)


def is_valid_shard(shard: str) -> bool:
    """Return whether `shard` is shaped like a Cliniko shard name such as "au2"."""
    return bool(_SHARD_PATTERN.fullmatch(shard))


def shard_from_api_key(key: str) -> str:
    """Return the shard named after the key's last hyphen, or "au1" for old keys without one."""
    _, hyphen, suffix = key.strip().rpartition("-")
    if hyphen and is_valid_shard(suffix):
        return suffix.lower()
    return DEFAULT_SHARD


def api_base_url(shard: str, override: str | None = None) -> str:
    """Return the API base URL for `shard`, or `override` with any `{shard}` filled in."""
    _require_shard(shard)
    if override:
        # str.replace rather than str.format: an override may legitimately contain other braces.
        return override.replace("{shard}", shard.lower()).rstrip("/")
    return f"https://api.{shard.lower()}.cliniko.com/v1"


def locate(api_key: str, override: str | None = None) -> tuple[str, str]:
    """Return the key's shard and the API base URL to reach it (the one place both are derived)."""
    shard = shard_from_api_key(api_key)
    return shard, api_base_url(shard, override)


def web_base_url(subdomain: str, shard: str) -> str:
    """Return the clinic's Cliniko web-app address, e.g. https://acme.au2.cliniko.com."""
    _require_shard(shard)
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", subdomain or ""):
        raise ValueError("Cliniko subdomain must be a single DNS label")
    return f"https://{subdomain.lower()}.{shard.lower()}.cliniko.com"


def patient_web_url(subdomain: str, shard: str, patient_id: str) -> str:
    """Return the Cliniko web-app page of one patient (the form integrators use; undocumented)."""
    return f"{web_base_url(subdomain, shard)}/patients/{quote(str(patient_id), safe='')}"


def _require_shard(shard: str) -> None:
    # The shard becomes part of a host name, so reject anything that could change the host.
    if not isinstance(shard, str) or not is_valid_shard(shard):
        raise ValueError(f"not a Cliniko shard name: {shard!r}")
