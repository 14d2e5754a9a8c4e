"""Rendered public pages cached in Redis, dropped all at once whenever a page or setting changes.

Each entry remembers the cache generation it was rendered in; a save bumps the generation, so a
render that started before the save can never be served after it. A lookup is one round trip.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

log = logging.getLogger(__name__)

PREFIX = "oncord:public-pages"
GENERATION_KEY = f"{PREFIX}:generation"
DEFAULT_TTL_SECONDS = 600


def cache_client(url: str, *, timeout_seconds: float = 0.5) -> Redis:
    """A Redis client for the cache that fails fast: a slow or absent Redis must not slow the page."""
    return Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds,
                          retry=Retry(NoBackoff(), 0))


@dataclass(frozen=True)
class RenderedPage:
    """A public page ready to send: its HTML and the headers that belong to it."""

    html: str
    content_security_policy: str
    permissions_policy: str

    @property
    def etag(self) -> str:
        """A strong validator of everything sent."""
        digest = hashlib.sha256()
        for part in (self.html, self.content_security_policy, self.permissions_policy):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Lookup:
    """A cache answer: the page if cached, and the generation to store a fresh render under."""

    page: RenderedPage | None
    generation: int | None


class PublicPageCache:
    """Redis-backed cache of rendered public pages; failures fall back to rendering."""

    def __init__(self, redis: Redis, *, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def _key(slug: str) -> str:
        return f"{PREFIX}:page:{slug}"

    def lookup(self, slug: str) -> Lookup:
        """The cached page for a slug, if it was rendered in the current generation."""
        try:
            generation_raw, entry_raw = self.redis.mget(GENERATION_KEY, self._key(slug))
        except RedisError:
            log.warning("public page cache unavailable; rendering %s", slug, exc_info=True)
            return Lookup(None, None)
        generation = int(generation_raw or 0)
        if entry_raw is None:
            return Lookup(None, generation)
        try:
            entry = json.loads(entry_raw)
            if entry.pop("generation") != generation:
                return Lookup(None, generation)
            return Lookup(RenderedPage(**entry), generation)
        except (ValueError, KeyError, TypeError):
            return Lookup(None, generation)

    def store(self, slug: str, page: RenderedPage, generation: int | None) -> None:
        """Keep a render made in `generation` (from lookup); a None generation stores nothing."""
        if generation is None:
            return
        entry = json.dumps({"generation": generation, **asdict(page)})
        try:
            self.redis.set(self._key(slug), entry, ex=self.ttl_seconds)
        except RedisError:
            log.warning("could not cache public page %s", slug, exc_info=True)

    def invalidate(self) -> None:
        """Forget every cached page (after any page or clinic setting is saved)."""
        try:
            self.redis.incr(GENERATION_KEY)
        except RedisError:
            # Entries then live out their TTL; say so loudly, as visitors see the old page meanwhile.
            log.error("could not invalidate the public page cache; pages refresh within %ss",
                      self.ttl_seconds, exc_info=True)
