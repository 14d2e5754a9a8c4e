"""The Redis connection and RQ queue the app enqueues background work on."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue

from oncord.config import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Bind a lazily connecting Redis client and the RQ queue to the app."""
    connection = Redis.from_url(settings.redis_url)
    app.extensions["oncord.redis"] = connection
    app.extensions["oncord.queue"] = Queue(settings.rq_queue, connection=connection)


def get_redis(app: Flask | None = None) -> Redis:
    """The app's Redis client."""
    return (app or current_app).extensions["oncord.redis"]


def get_queue(app: Flask | None = None) -> Queue:
    """The app's RQ queue."""
    return (app or current_app).extensions["oncord.queue"]
