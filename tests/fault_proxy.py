"""A loopback HTTP reverse proxy that injects faults (standard library only).

Put it between a storage client and the emulator::

    with FaultProxy(server_url) as proxy:
        client = make_client(proxy.url)
        proxy.fail("/o/run/output-1-to-20.json", times=2)   # two 503s, then pass
        proxy.corrupt("/download/")                          # alter downloaded bytes

Rules match a substring of the request's percent-decoded path and query
(``/download/storage/v1/b/BUCKET/o/PREFIX/output-1-to-20.json?alt=media``), so
object names can be written as they are. Every request is recorded in
:attr:`FaultProxy.seen`. The Host header is forwarded as the client sent it.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass
class Rule:
    match: str
    action: str  # "status" or "corrupt"
    remaining: int | None  # None: every matching request
    status: int = 503


@dataclass(frozen=True)
class Seen:
    """One request through the proxy and what the client got back."""

    method: str
    path: str  # percent-decoded path and query
    status: int
    fault: str | None  # "status" or "corrupt" when a rule applied


def corrupt_bytes(body: bytes) -> bytes:
    """Swap the case of the last ASCII letter: same length and, in JSON, usually still
    valid JSON with one changed value, so only a checksum can tell."""
    data = bytearray(body)
    for i in range(len(data) - 1, -1, -1):
        if chr(data[i]).isascii() and chr(data[i]).isalpha():
            data[i] ^= 0x20
            return bytes(data)
    if data:
        data[-1] ^= 0x01
    return bytes(data)


class FaultProxy:
    """A threaded reverse proxy to `upstream` (``http://host:port``) on a free loopback port."""

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or not parsed.hostname or not parsed.port:
            raise ValueError(f"upstream must be http://HOST:PORT, not {upstream!r}")
        self.upstream = (parsed.hostname, parsed.port)
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="fault-proxy", daemon=True
        )

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def fail(self, match: str, *, times: int = 1, status: int = 503) -> None:
        """Answer the next `times` requests matching `match` with `status`, not forwarded."""
        with self.lock:
            self.rules.append(Rule(match, "status", times, status))

    def corrupt(self, match: str, *, times: int | None = None) -> None:
        """Alter the response body of requests matching `match` (all of them by default);
        the headers, checksums included, are passed on unchanged."""
        with self.lock:
            self.rules.append(Rule(match, "corrupt", times))

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.seen.clear()

    def requests(self, match: str = "", method: str | None = None) -> list[Seen]:
        """The recorded requests whose path contains `match`."""
        with self.lock:
            return [
                s for s in self.seen if match in s.path and (method is None or s.method == method)
            ]

    def _take_rule(self, path: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.match in path and (rule.remaining is None or rule.remaining > 0):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule
            return None

    def _record(self, seen: Seen) -> None:
        with self.lock:
            self.seen.append(seen)


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # idle keep-alive connections end on their own

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urllib.parse.unquote(self.path)
            rule = proxy._take_rule(path)
            if rule is not None and rule.action == "status":
                message = f'{{"error": {{"code": {rule.status}, "message": "injected"}}}}'
                # Recorded before answering: the client may look as soon as it has the answer.
                proxy._record(Seen(self.command, path, rule.status, "status"))
                self._send(rule.status, [("Content-Type", "application/json")], message.encode())
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection = http.client.HTTPConnection(*proxy.upstream, timeout=30)
            try:
                # Host is in `headers`, so http.client sends the client's Host unchanged.
                connection.request(self.command, self.path, body or None, headers)
                response = connection.getresponse()
                payload = response.read()
                status = response.status
                out = [
                    (k, v)
                    for k, v in response.getheaders()
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
                ]
            except OSError as exc:
                proxy._record(Seen(self.command, path, 502, None))
                self._send(502, [("Content-Type", "text/plain")], f"upstream: {exc}".encode())
                return
            finally:
                connection.close()
            if self.command == "HEAD":
                out += [(k, v) for k, v in response.getheaders() if k.lower() == "content-length"]
            fault = None
            if rule is not None and rule.action == "corrupt" and payload:
                payload, fault = corrupt_bytes(payload), "corrupt"
            proxy._record(Seen(self.command, path, status, fault))
            self._send(status, out, payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _proxy

    return Handler
