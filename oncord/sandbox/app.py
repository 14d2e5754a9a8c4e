"""The sandbox's own small Flask app: Cliniko's /v1 API plus the /_sandbox controls."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from oncord.sandbox import api, control, gate
from oncord.sandbox.responses import message, not_found_page
from oncord.sandbox.store import SandboxStore
from oncord.sandbox.timeutil import iso

MAX_BODY_BYTES = 1 << 20
_HOST = re.compile(r"[A-Za-z0-9._-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


@dataclass(frozen=True)
class SandboxState:
    """What the app's views need: the data store and the API key it accepts."""

    store: SandboxStore
    api_key: str
    key_body: str


def create_app(store: SandboxStore, api_key: str) -> Flask:
    """Build the sandbox app serving `store`, accepting `api_key` (with or without its shard)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    key_body = api_key.rpartition("-")[0] or api_key
    app.extensions["oncord_sandbox"] = SandboxState(store, api_key, key_body)
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)

    @app.before_request
    def _gate() -> Response | None:
        if not _HOST.fullmatch(request.host):
            # Links are built from the Host header, so only a plain host[:port] is served.
            return message("Invalid Host header", 400)
        if not _is_api(request.path) or request.url_rule is None:
            return None  # unknown routes get Cliniko's HTML 404, whoever asks
        return gate.check(store, key_body)

    @app.after_request
    def _log(response: Response) -> Response:
        if _is_api(request.path):
            store.requests.add({
                "method": request.method, "path": request.path,
                "query": request.query_string.decode("latin-1"),
                "status": response.status_code, "at": iso(store.now()),
            })
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        if error.code in (404, 405):
            return not_found_page()
        return message(error.description or error.name, error.code or 400)

    return app


def _is_api(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")
