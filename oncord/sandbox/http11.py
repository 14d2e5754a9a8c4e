"""A threaded HTTP/1.1 WSGI server that keeps connections open, as Cliniko's API does.

werkzeug's development server sends `Connection: close` on every response, so a client paging
through thousands of records pays a TCP connect per page; a benchmark against it measures the
server's sockets, not the client. This server reads each request body in full before calling
the application (so a reply sent without reading the body never leaves bytes that would be
taken for the next request line), and gives every response a Content-Length.
"""

from __future__ import annotations

import io
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.serving import DechunkedInput

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# An idle persistent connection is dropped after this long, as a real server would.
IDLE_TIMEOUT_SECONDS = 60.0


class KeepAliveServer(ThreadingHTTPServer):
    """One thread per connection; server_close() also ends idle persistent connections."""

    daemon_threads = True
    # Joining handler threads would wait on idle keep-alive connections; they are shut instead.
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: WSGIApp, handler: type[WSGIHandler]) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS look-up of the host, which can take seconds."""
        socketserver.TCPServer.server_bind(self)
        host, self.server_port = self.server_address[:2]
        self.server_name = str(host)

    def track(self, connection: socket.socket, *, is_open: bool) -> None:
        """Remember or forget a client connection (called by the handler)."""
        with self._open_lock:
            if is_open:
                self._open.add(connection)
            else:
                self._open.discard(connection)

    def server_close(self) -> None:
        """Stop listening and end every client connection still open.

        Only the reading side is shut: an idle connection then ends at once, while a request
        being answered (one just released from a hold) still gets its whole response.
        """
        super().server_close()
        with self._open_lock:
            connections, self._open = list(self._open), set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RD)
            except OSError:
                pass  # the client closed it meanwhile


class KeepAliveServer6(KeepAliveServer):
    """The same server on an IPv6 address."""

    address_family = socket.AF_INET6


class WSGIHandler(BaseHTTPRequestHandler):
    """Serves each request on a persistent connection through the server's WSGI app."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle's algorithm on, the body would wait
    # for the client's delayed ACK of the headers (about 40 ms per request on Linux).
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS
    server: KeepAliveServer

    def setup(self) -> None:
        """Register the connection so the server can end it on close."""
        super().setup()
        self.server.track(self.connection, is_open=True)

    def finish(self) -> None:
        """Forget the connection once the client or the server has ended it."""
        try:
            super().finish()
        finally:
            self.server.track(self.connection, is_open=False)

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; every method goes to the app.
        if name.startswith("do_"):
            return self._run_wsgi
        raise AttributeError(name)

    def _run_wsgi(self) -> None:
        environ = self._environ()
        reply: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            reply["status"], reply["headers"] = status, headers
            return lambda data: reply.setdefault("written", []).append(data)

        try:
            result = self.server.app(environ, start_response)
            try:
                body = b"".join([*reply.get("written", []), *result])
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:  # the sandbox app handles its own errors; this is the last resort
            self.close_connection = True
            self.send_error(500)
            raise
        self._send(reply["status"], reply["headers"], body)

    def _send(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        code, _, message = status.partition(" ")
        self.send_response(int(code), message)
        names = set()
        for name, value in headers:
            names.add(name.lower())
            self.send_header(name, value)
        bodiless = self.command == "HEAD" or int(code) in (204, 304) or int(code) < 200
        if "content-length" not in names and not bodiless:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not bodiless:
            self.wfile.write(body)
        self.wfile.flush()

    def _environ(self) -> dict[str, Any]:
        url = urlsplit(self.path)
        body = self._read_body()
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            # PEP 3333: the path as latin-1 text of its UTF-8 bytes.
            "PATH_INFO": unquote(url.path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": url.query,
            "REQUEST_URI": self.path,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1],
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
        }
        for name, value in self.headers.items():
            if "_" in name:
                continue  # as werkzeug does: a header with "_" could spoof one with "-"
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
                if key in environ:
                    value = f"{environ[key]},{value}"
            environ[key] = value
        if environ.pop("HTTP_TRANSFER_ENCODING", None) is not None:
            environ["CONTENT_LENGTH"] = str(len(body))  # the app sees the de-chunked body
        return environ

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return DechunkedInput(self.rfile).read()  # type: ignore[arg-type]  # a buffered reader is IO[bytes]
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length and length.isdigit() else b""


class QuietWSGIHandler(WSGIHandler):
    """Skips the per-request access log line, which costs more than serving a page."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


def make_keep_alive_server(
    host: str, port: int, app: WSGIApp, *, log_requests: bool = False
) -> KeepAliveServer:
    """Bind a keep-alive WSGI server to host:port (port 0 picks a free one); not yet serving."""
    server_class = KeepAliveServer6 if ":" in host else KeepAliveServer
    return server_class((host, port), app, WSGIHandler if log_requests else QuietWSGIHandler)
