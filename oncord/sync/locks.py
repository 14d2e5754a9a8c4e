"""One pull at a time across every worker: a Redis lock with expiry, renewed per page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.lock import Lock

PULL_LOCK = "oncord:lock:pull"
# Long enough for a slow page (429 waits included); renewed after every page.
LOCK_SECONDS = 600


class SyncAlreadyRunning(RuntimeError):
    """Another worker holds the pull lock."""

    user_message = "A sync is already running; this request joined it."


@contextmanager
def pull_lock(redis: Redis) -> Iterator[Lock]:
    """Hold the pull lock for the duration of the block, or raise SyncAlreadyRunning."""
    lock = redis.lock(PULL_LOCK, timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        raise SyncAlreadyRunning()
    try:
        yield lock
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - an expired lock is already released
            pass


def pull_running(redis: Redis) -> bool:
    """Whether some worker holds the pull lock now."""
    return bool(redis.exists(PULL_LOCK))


PUSH_LOCK = "oncord:lock:push"


@contextmanager
def push_lock(redis: Redis) -> Iterator[Lock]:
    """Hold the push lock; a second push waits for the first rather than sending twice."""
    lock = redis.lock(PUSH_LOCK, timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS)
    if not lock.acquire():
        raise SyncAlreadyRunning()
    try:
        yield lock
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - an expired lock is already released
            pass
