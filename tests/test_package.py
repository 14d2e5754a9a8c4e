"""The wheel: built from the checkout, installed into a fresh venv, it migrates and serves on its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import requests

from oncord import migrate

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=cwd, env=env)
    assert result.returncode == 0, f"{args[:4]} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """A fresh venv holding only the built wheel; (its python, an environment, a working folder)."""
    tmp = tmp_path_factory.mktemp("wheel")
    # Offline: the venv's own build backend (hatchling, a dev dependency), no index.
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--quiet", "-w", str(tmp / "dist"), str(ROOT)])
    (wheel,) = (tmp / "dist").glob("oncord_clinics-*.whl")
    _run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")])
    python = tmp / "venv" / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--quiet", str(wheel)])
    # The dependencies come from this test venv's site-packages as a plain path entry: .pth files
    # there (the editable install's, which puts the checkout on sys.path) are not processed.
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
                .stdout.strip())
    (site / "test-venv-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    work = tmp / "work"
    work.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ONCORD_", "PYTHON", "FLASK_", "GUNICORN", "WEB_CONCURRENCY"))}
    env.update(ONCORD_MODE="production", SECRET_KEY="wheel-test-secret-" + "x" * 32,
               DATABASE_URL=f"sqlite:///{work / 'oncord.db'}", PYTHONNOUSERSITE="1")
    return python, env, work


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    """The fresh venv imports oncord from its own site-packages and finds templates, static and
    migrations inside it; the instance folder is the venv's var/, never site-packages."""
    python, env, work = installed
    probe = ("import oncord, oncord.migrate as m; a = oncord.create_app(); "
             "print(oncord.__file__, a.template_folder, a.static_folder, m.MIGRATIONS_DIR, a.instance_path, "
             "sep='\\n')")
    module, *folders, instance = map(Path, _run([str(python), "-c", probe], cwd=work, env=env).stdout.split())
    package = module.parent
    assert package.is_relative_to(python.parent.parent) and not package.is_relative_to(ROOT)
    assert all(folder.is_dir() and folder.parent == package for folder in folders), folders
    assert (package / "migrations" / "env.py").is_file() and (package / "gunicorn.conf.py").is_file()
    assert instance == python.parent.parent / "var" / "oncord-instance"


def test_the_installed_wheel_migrates_and_serves_the_login_page_under_gunicorn(installed):
    """flask --app oncord db upgrade reaches the head; gunicorn with the shipped config serves
    /login, the vendored htmx and an access log without the query string."""
    python, env, work = installed
    upgraded = _run([str(python), "-m", "flask", "--app", "oncord", "db", "upgrade"], cwd=work, env=env)
    assert upgraded.stdout.strip() == f"Database at {migrate.heads()[0]}."

    config = _run([str(python), "-c", "from oncord.resources import resource_path as r; "
                   "print(r('gunicorn.conf.py'))"], cwd=work, env=env).stdout.strip()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    log = work / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(python), "-m", "gunicorn", "-c", config, "--bind", f"fd://{listener.fileno()}"],
            cwd=work, env={**env, "WEB_CONCURRENCY": "1"}, stdout=out, stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()])
    listener.close()
    try:
        base = f"http://127.0.0.1:{port}"
        login = _get_when_up(base + "/login?next=/contacts%3Fq%3DSmith", server, log)
        assert login.status_code == 200
        assert 'name="password"' in login.text
        htmx = requests.get(base + "/static/htmx-2.0.11.min.js", timeout=10)
        assert htmx.status_code == 200 and "htmx" in htmx.text
    finally:
        server.terminate()
        server.wait(30)
    access = [line for line in log.read_text().splitlines() if '"GET ' in line]
    assert any('"GET /login HTTP/1.1" 200' in line for line in access), access
    assert not any("Smith" in line or "?" in line for line in access), access


def _get_when_up(url: str, server: subprocess.Popen[bytes], log: Path) -> requests.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return requests.get(url, timeout=60)  # the socket queues requests while workers boot
        except requests.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not answer:\n{log.read_text()}") from None
            time.sleep(0.2)
