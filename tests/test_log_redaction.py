"""Log lines carry no patient data: names, e-mail addresses, phone numbers, search terms, tokens."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

SURNAME, EMAIL, PHONE = "Quartermaine", "philippa.q@example.com", "0412 345 678"


def test_an_exception_message_in_a_request_log_hides_addresses(app, caplog) -> None:
    """Anything logged while serving a request goes through the same redaction."""
    with caplog.at_level(logging.ERROR):
        try:
            raise ValueError(f"bad row for {EMAIL}, call {PHONE}, patient 1234567890123456789")
        except ValueError:
            app.logger.exception("could not save contact 42")
    assert EMAIL not in caplog.text and PHONE not in caplog.text
    assert "contact 42" in caplog.text and "1234567890123456789" in caplog.text  # ids stay


@pytest.mark.slow
def test_gunicorn_access_log_has_no_search_term_or_unsubscribe_token(tmp_path: Path, database_url: str,
                                                                    redis_url: str) -> None:
    """gunicorn under gunicorn.conf.py logs search and unsubscribe URLs without the term or the token."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = tmp_path / "access.log"
    env = {"ONCORD_MODE": "demo", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1", "PATH": str(Path(sys.executable).parent)}
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(root / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--access-logfile", str(log_path)],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    token = "eyJjIjoxMiwiayI6ImUifQ.Zx9_aBcD.kq3lNOPq-rsTUV"
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # bounded: at most about a minute for the worker to boot
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        requests.get(f"{base}/contacts", params={"q": f"{SURNAME} 0412"}, timeout=5, allow_redirects=False)
        requests.get(f"{base}/u/{token}", timeout=5, allow_redirects=False)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = log_path.read_text()
    assert "/contacts" in lines and "/u/[token]" in lines
    assert SURNAME not in lines and token not in lines and "0412" not in lines
