"""Measure the sandbox at scale: start-up time, pages served per second, memory.

The sandbox runs in its own process (as `flask sandbox serve` does for the sync benchmark), so
the client's work does not share its interpreter. Run:
`python -m oncord.sandbox.bench --patients 50000 --appointments 500000`.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from oncord.sandbox.server import DEMO_API_KEY

USER_AGENT = "Oncord sandbox bench (dev@example.com)"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_mb(pid: int) -> float:
    # VmRSS of the sandbox process (Linux), in MiB.
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    # User + system CPU time of the sandbox process (Linux), independent of other load.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _page_through(session: requests.Session, url: str, params: dict[str, Any]) -> tuple[int, int, float]:
    """Follow `links.next` from the first page; return (pages, records, seconds)."""
    started = time.perf_counter()
    pages = records = 0
    response = session.get(url, params=params, timeout=60)
    while True:
        response.raise_for_status()
        body = response.json()
        pages += 1
        records += sum(len(v) for v in body.values() if isinstance(v, list))
        following = body["links"].get("next")
        if following is None:
            return pages, records, time.perf_counter() - started
        response = session.get(following, timeout=60)


def run(patients: int, appointments: int, per_page: int) -> dict[str, float]:
    """Start a sandbox without a rate limit, page through both big collections, report figures."""
    port = _free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "oncord.sandbox.cli", "serve", "--port", str(port),
         "--patients", str(patients), "--appointments", str(appointments), "--no-rate-limit"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "Cliniko sandbox ready ..." once the data exists
        figures: dict[str, float] = {"startup_s": time.perf_counter() - started,
                                     "sandbox_rss_after_start_mb": _rss_mb(process.pid)}
        base_url = f"http://127.0.0.1:{port}/v1"
        with requests.Session() as session:
            session.auth = (DEMO_API_KEY, "")
            session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
            for kind, extra in (
                ("patients", {"q[]": ["archived_at:*"]}),
                ("individual_appointments", {"q[]": ["archived_at:*", "cancelled_at:*"]}),
            ):
                cpu_before = _cpu_seconds(process.pid)
                pages, records, seconds = _page_through(
                    session, f"{base_url}/{kind}", {"per_page": per_page, **extra}
                )
                cpu = _cpu_seconds(process.pid) - cpu_before
                figures[f"{kind}_pages"] = pages
                figures[f"{kind}_sandbox_cpu_ms_per_page"] = 1000 * cpu / pages
                figures[f"{kind}_pages_per_s"] = pages / seconds
                figures[f"{kind}_records_per_s"] = records / seconds
        figures["sandbox_rss_after_paging_mb"] = _rss_mb(process.pid)
        return figures
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    """Parse the command line, run the benchmark and print one figure per line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--appointments", type=int, default=500_000)
    parser.add_argument("--per-page", type=int, default=100)
    args = parser.parse_args()
    for name, value in run(args.patients, args.appointments, args.per_page).items():
        print(f"{name}: {value:,.1f}" if isinstance(value, float) else f"{name}: {value:,}")


if __name__ == "__main__":
    main()
