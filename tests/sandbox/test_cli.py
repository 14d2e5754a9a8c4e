"""`sandbox serve`: starts in the foreground and prints the base URL and the key it accepts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner

from oncord.sandbox.cli import sandbox
from oncord.sandbox.server import DEMO_API_KEY
from tests.sandbox.conftest import USER_AGENT

ROOT = Path(__file__).parents[2]


def test_help_lists_the_options():
    """The serve command documents its options."""
    result = CliRunner().invoke(sandbox, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--patients", "--appointments", "--seed", "--shard",
                   "--no-rate-limit", "--rate-limit"):
        assert option in result.output


def test_serve_prints_url_and_key_and_answers():
    """Run as a process, it serves the printed base URL with the printed key."""
    with subprocess.Popen(
        [sys.executable, "-m", "oncord.sandbox.cli", "serve", "--port", "0", "--patients", "7",
         "--appointments", "12", "--seed", "4", "--shard", "au2", "--rate-limit", "50"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    ) as process:
        _check_serving(process)


def _check_serving(process: subprocess.Popen[str]) -> None:
    try:
        assert process.stdout is not None
        output = "".join(process.stdout.readline() for _ in range(5))
        base_url = re.search(r"base URL:\s+(\S+)", output).group(1)
        api_key = re.search(r"API key:\s+(\S+)", output).group(1)
        assert api_key == DEMO_API_KEY.replace("-au1", "-au2")
        assert "7 patients, 12 appointments" in output and "50 requests per 60 s" in output
        response = requests.get(f"{base_url}/patients", auth=(api_key, ""),
                                headers={"User-Agent": USER_AGENT}, timeout=10)
        assert response.status_code == 200 and response.json()["total_entries"] <= 7
    finally:
        process.terminate()
        process.wait(timeout=10)
