"""Gunicorn settings for Oncord's web app (`gunicorn` reads ./gunicorn.conf.py by default).

`flask --app app bench web` serves the app with this same file. Command-line flags and
GUNICORN_CMD_ARGS override anything here; WEB_CONCURRENCY and GUNICORN_THREADS size the pool.
"""

from __future__ import annotations

import os

from oncord import logredact

# The app factory reads its settings (SECRET_KEY, DATABASE_URL, ...) from the environment.
wsgi_app = "oncord:create_app()"

# bind is left to gunicorn: 127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set. Run it behind a
# TLS-terminating proxy; forwarded_allow_ips (FORWARDED_ALLOW_IPS, default the loopback addresses)
# names the proxies whose X-Forwarded-Proto is believed, so Secure cookies and HSTS apply.

# Requests mostly wait on PostgreSQL, so each process runs a few threads; one process per core
# keeps the Python work on every core without oversubscribing a small machine.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)

# A request still running after 30 s is stuck (pages answer in tens of milliseconds): the worker
# is replaced. Shutdown lets requests in flight finish for as long.
timeout = 30
graceful_timeout = 30
# Idle keep-alive connections outlive a proxy's own idle timeout (nginx and most load balancers:
# 60 s), so gunicorn never closes one the proxy is about to reuse (a failed request, a 502 for a
# POST). A gthread worker parks idle connections in its poller, not in a thread.
keepalive = 75

# Access log to stdout without patient data: the path but never the query string (searches are
# patient names), no referer (it carries the previous page's query) and no user agent. Every log
# record of the master and the workers also goes through oncord.logredact, which hides the
# unsubscribe token in /u/<token> paths, any query value, e-mail addresses and phone numbers.
logredact.install()
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'

# Gunicorn's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl), so a second
# instance (the bench, a test, a staging copy) would take it over; the process manager (systemd,
# a container runtime) and signals manage the server instead.
control_socket_disable = True
