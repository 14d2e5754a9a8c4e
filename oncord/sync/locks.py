"""One poll, one full reconcile and one push at a time across every worker: Redis locks with
expiry, renewed as work goes.

A poll and the daily full reconcile hold different locks, so polls keep the data fresh during
the half hour a big clinic's reconcile takes. A worker killed mid-sync cannot renew its lock,
so the next sync can start once it expires.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import LockError
from redis.lock import Lock

PULL_LOCK = "oncord:lock:pull"
FULL_PULL_LOCK = "oncord:lock:pull-full"
PUSH_LOCK = "oncord:lock:push"


class SyncAlreadyRunning(RuntimeError):
    """Another worker holds the lock."""

    user_message = "A sync was already running, so this one did not start; its result shows when it ends."


@contextmanager
def _held(lock: Lock, *, blocking: bool) -> Iterator[Lock]:
    if not lock.acquire(blocking=blocking):
        raise SyncAlreadyRunning()
    try:
        yield lock
    finally:
        try:
            lock.release()
        except LockError:  # expired meanwhile: nothing left to release
            pass


@contextmanager
def pull_lock(redis: Redis, seconds: float, *, full: bool = False) -> Iterator[Lock]:
    """Hold the poll's (or the full reconcile's) lock, renewed with .reacquire(); else SyncAlreadyRunning."""
    with _held(redis.lock(FULL_PULL_LOCK if full else PULL_LOCK, timeout=seconds), blocking=False) as lock:
        yield lock


@contextmanager
def push_lock(redis: Redis, seconds: float) -> Iterator[Lock]:
    """Hold the push lock; a second push waits for the first rather than sending twice."""
    with _held(redis.lock(PUSH_LOCK, timeout=seconds, blocking_timeout=seconds), blocking=True) as lock:
        yield lock


def pull_running(redis: Redis, *, full: bool = False) -> bool:
    """Whether some worker holds the poll's (or the full reconcile's) lock now."""
    return bool(redis.exists(FULL_PULL_LOCK if full else PULL_LOCK))


def push_running(redis: Redis) -> bool:
    """Whether some worker holds the push lock now."""
    return bool(redis.exists(PUSH_LOCK))
