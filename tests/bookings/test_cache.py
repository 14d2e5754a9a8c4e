"""The public page cache: one round trip per hit, and nothing rendered before a save outlives it."""

from __future__ import annotations

from redis import Redis

from oncord.bookings.cache import PublicPageCache, RenderedPage, cache_client

PAGE = RenderedPage(html="<p>v1</p>", content_security_policy="default-src 'none'", permissions_policy="")


def test_a_stored_page_is_served_until_invalidated(redis_conn: Redis) -> None:
    """Stored under the current generation, found again; gone after invalidate()."""
    cache = PublicPageCache(redis_conn)
    first = cache.lookup("book-now")
    assert first.page is None and first.generation == 0
    cache.store("book-now", PAGE, first.generation)
    assert cache.lookup("book-now").page == PAGE
    cache.invalidate()
    assert cache.lookup("book-now").page is None


def test_a_render_begun_before_a_save_is_never_served_after_it(redis_conn: Redis) -> None:
    """A slow render stores under its old generation and is ignored once a save bumped it."""
    cache = PublicPageCache(redis_conn)
    before_save = cache.lookup("book-now").generation
    cache.invalidate()  # a save commits while the old render is still running
    cache.store("book-now", PAGE, before_save)
    assert cache.lookup("book-now").page is None


def test_entries_expire(redis_conn: Redis) -> None:
    """Entries carry a TTL, so a missed invalidation heals itself."""
    cache = PublicPageCache(redis_conn, ttl_seconds=30)
    cache.store("book-now", PAGE, cache.lookup("book-now").generation)
    assert 0 < redis_conn.ttl("oncord:public-pages:page:book-now") <= 30


def test_the_etag_covers_the_headers_too() -> None:
    """A policy change alone gives a new ETag, so browsers never keep an old CSP."""
    other = RenderedPage(html=PAGE.html, content_security_policy="default-src 'self'", permissions_policy="")
    assert PAGE.etag != other.etag


def test_an_unreachable_redis_means_no_cache_not_an_error() -> None:
    """Lookups miss and stores are skipped when Redis does not answer."""
    cache = PublicPageCache(cache_client("redis://127.0.0.1:1/0"))
    found = cache.lookup("book-now")
    assert found.page is None and found.generation is None
    cache.store("book-now", PAGE, found.generation)
    cache.invalidate()
