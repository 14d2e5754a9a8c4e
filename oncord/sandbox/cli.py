"""`flask sandbox serve` (or `python -m oncord.sandbox.cli serve`): run the sandbox in the foreground."""

from __future__ import annotations

import time

import click
from flask import Flask

from oncord.sandbox.server import build_sandbox


@click.group("sandbox", help="The local Cliniko API sandbox.")
def sandbox() -> None:
    """The local Cliniko API sandbox (needs nothing of Oncord's own config or database)."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--patients", default=200, show_default=True, type=click.IntRange(0))
@click.option("--appointments", default=None, type=click.IntRange(0),
              help="Total appointments [default: 10 per patient].")
@click.option("--seed", default=1, show_default=True)
@click.option("--shard", default="au1", show_default=True)
@click.option("--rate-limit", default=200, show_default=True, type=click.IntRange(1),
              help="Requests per window per API key.")
@click.option("--rate-window", default=60.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Window length in seconds.")
@click.option("--no-rate-limit", is_flag=True, help="Turn rate limiting off.")
@click.option("--log-requests", is_flag=True, help="Print one line per request.")
def serve(
    host: str,
    port: int,
    patients: int,
    appointments: int | None,
    seed: int,
    shard: str,
    rate_limit: int,
    rate_window: float,
    no_rate_limit: bool,
    log_requests: bool,
) -> None:
    """Serve a seeded sandbox account until interrupted, printing its base URL and API key."""
    started = time.perf_counter()
    server, store, api_key = build_sandbox(
        patients=patients, appointments=appointments, seed=seed, shard=shard, host=host,
        port=port, rate_limit=None if no_rate_limit else rate_limit,
        rate_window_seconds=rate_window, log_requests=log_requests,
    )
    counts = store.counts()
    root = f"http://{host}:{server.server_port}"
    limit = "off" if no_rate_limit else f"{rate_limit} requests per {rate_window:g} s per key"
    click.echo(
        f"Cliniko sandbox ready in {time.perf_counter() - started:.1f} s: "
        f"{counts['patients']} patients, {counts['individual_appointments']} appointments "
        f"(seed {seed}, shard {shard})\n"
        f"  base URL:   {root}/v1\n"
        f"  API key:    {api_key}\n"
        f"  controls:   {root}/_sandbox\n"
        f"  rate limit: {limit}",
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def init_app(app: Flask) -> None:
    """Register `flask sandbox` on the app's CLI."""
    app.cli.add_command(sandbox)


if __name__ == "__main__":
    sandbox()
