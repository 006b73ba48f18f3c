"""A loopback HTTP proxy that forwards every request to one upstream server (a stand-in) and lets a
subclass look at, change or withhold the answer. The base of the test proxies (DynamoDBProxy, FaultProxy).

One connection per request (HTTP/1.0), so a subclass can drop or cut a connection without disturbing
any other request.
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

# Headers that describe one hop, not the message, and those the proxy's own server writes: never passed on.
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "proxy-connection", "date",
        "server"}


@dataclass
class Request:
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes

    @property
    def operation(self) -> str:
        """DynamoDB's operation name (X-Amz-Target), else `METHOD /path?query` (S3)."""
        target = self.headers.get("X-Amz-Target", "")
        return target.rsplit(".", 1)[-1] if target else f"{self.method} {self.path}"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    # HEAD answers announce the length of a body they do not carry.
    head_length: str | None = field(default=None)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class ForwardingProxy:
    """Override `serve(request, send)` to change what the client gets; `forward` asks the upstream."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        parsed = urlparse(upstream)
        self._host, self._port = parsed.hostname or "127.0.0.1", parsed.port or 80
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                request = Request(self.command, self.path, dict(self.headers.items()), self._body())
                proxy.serve(request, Answer(self))

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if not size:
                            while self.rfile.readline().strip():  # trailers
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forward(self, request: Request) -> Reply:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
            headers["Content-Length"] = str(len(request.body))
            conn.request(request.method, request.path, body=request.body, headers=headers)
            response = conn.getresponse()
            body = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
            length = response.getheader("Content-Length") if request.method == "HEAD" else None
            return Reply(response.status, kept, body, length)
        finally:
            conn.close()

    def serve(self, request: Request, send: Answer) -> None:
        send(self.forward(request))

    def __enter__(self) -> ForwardingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Answer:
    """Sends a reply on the client's connection, whole or cut after `cut` body bytes."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._handler = handler

    def __call__(self, reply: Reply, cut: int | None = None) -> None:
        handler = self._handler
        handler.send_response(reply.status)
        for key, value in reply.headers:
            handler.send_header(key, value)
        handler.send_header("Content-Length", reply.head_length or str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body if cut is None else reply.body[:cut])
        handler.wfile.flush()
        handler.close_connection = True

    def drop(self) -> None:
        """Close the connection without a word (HTTP/1.0 closes it once the handler returns)."""
        self._handler.close_connection = True
