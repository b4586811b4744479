"""A loopback HTTP reverse proxy that injects faults (standard library only).

Put it between a storage client and the emulator::

    with FaultProxy(server_url) as proxy:
        client = make_client(proxy.url)
        proxy.fail("/o/run/output-1-to-20.json", times=2)   # two 503s, then pass
        proxy.corrupt("/download/")                          # alter downloaded bytes
        proxy.reset("/b/bucket/o?", after=2)                 # drop the third listing page
        proxy.cut("/download/")                              # half the body, then close
        proxy.slow("/download/", seconds=2)                  # answer 2 s late

Rules match a substring of the request's percent-decoded path and query
(``/download/storage/v1/b/BUCKET/o/PREFIX/output-1-to-20.json?alt=media``), so
object names can be written as they are; ``after=N`` lets the first N matching
requests through (a later listing page). Every request is recorded in
:attr:`FaultProxy.seen`. The Host header is forwarded as the client sent it.
"""

from __future__ import annotations

import http.client
import socket
import struct
import sys
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

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
    action: str  # "status", "corrupt", "garble", "reset", "cut" or "slow"
    remaining: int | None  # None: every matching request
    after: int = 0  # matching requests let through before the rule applies
    status: int = 503
    seconds: float = 0.0


@dataclass(frozen=True)
class Seen:
    """One request through the proxy and what the client got back."""

    method: str
    path: str  # percent-decoded path and query
    status: int | None  # None: no answer (reset), or an answer held back (slow)
    fault: str | None  # the rule's action when one applied
    range: str | None = None  # the request's Range header


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


def garble_bytes(body: bytes) -> bytes:
    """Put a NUL byte in the middle: same length, but no longer JSON (what a client
    without a checksum, e.g. reading a listing page, can notice)."""
    middle = len(body) // 2
    return body[:middle] + b"\0" + body[middle + 1 :]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client dropping its idle keep-alive connection is no error worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


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
        self.stopping = threading.Event()  # ends the waits of slow answers
        self.server = _Server(("127.0.0.1", 0), _handler_for(self))
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
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _add(self, rule: Rule) -> None:
        with self.lock:
            self.rules.append(rule)

    def fail(self, match: str, *, times: int | None = 1, status: int = 503, after: int = 0) -> None:
        """Answer the next `times` requests matching `match` (None: all) with `status`,
        not forwarded."""
        self._add(Rule(match, "status", times, after, status=status))

    def corrupt(
        self, match: str, *, times: int | None = None, after: int = 0, garble: bool = False
    ) -> None:
        """Alter the response body of requests matching `match` (all of them by default);
        the headers, checksums included, are passed on unchanged. By default one
        letter changes case (still JSON); ``garble=True`` breaks the JSON."""
        self._add(Rule(match, "garble" if garble else "corrupt", times, after))

    def reset(self, match: str, *, times: int | None = 1, after: int = 0) -> None:
        """Read the request, then drop the connection (RST) without an answer."""
        self._add(Rule(match, "reset", times, after))

    def cut(self, match: str, *, times: int | None = 1, after: int = 0) -> None:
        """Forward the request, send the full Content-Length and half the body, then
        close the connection."""
        self._add(Rule(match, "cut", times, after))

    def slow(self, match: str, seconds: float, *, times: int | None = 1, after: int = 0) -> None:
        """Wait `seconds` before forwarding the request and answering (recorded on
        arrival, with status None: the client may have given up by then)."""
        self._add(Rule(match, "slow", times, after, seconds=seconds))

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
                    if rule.after > 0:
                        rule.after -= 1
                        continue
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

        def _send(
            self, status: int, headers: list[tuple[str, str]], body: bytes, *, cut: bool = False
        ) -> None:
            """Answer; with `cut`, announce the whole body, send half of it and close."""
            try:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body[: len(body) // 2] if cut else body)
            except OSError:  # the client gave up first (a slow answer)
                self.close_connection = True
            if cut:
                self.close_connection = True

        def _reset(self) -> None:
            # Linger 0: closing the socket sends RST instead of an orderly FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urllib.parse.unquote(self.path)
            seen_range = self.headers.get("Range")
            rule = proxy._take_rule(path)
            action = rule.action if rule is not None else None
            # Recorded before answering: the client may look as soon as it has the answer.
            if rule is not None and action == "reset":
                proxy._record(Seen(self.command, path, None, action, seen_range))
                self._reset()
                return
            if rule is not None and action == "status":
                message = f'{{"error": {{"code": {rule.status}, "message": "injected"}}}}'
                proxy._record(Seen(self.command, path, rule.status, action, seen_range))
                self._send(rule.status, [("Content-Type", "application/json")], message.encode())
                return
            if rule is not None and action == "slow":
                # Recorded now: the client may have given up and moved on long before.
                proxy._record(Seen(self.command, path, None, action, seen_range))
                proxy.stopping.wait(rule.seconds)
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
                proxy._record(Seen(self.command, path, 502, None, seen_range))
                self._send(502, [("Content-Type", "text/plain")], f"upstream: {exc}".encode())
                return
            finally:
                connection.close()
            if self.command == "HEAD":
                out += [(k, v) for k, v in response.getheaders() if k.lower() == "content-length"]
            if not payload and action in ("corrupt", "garble", "cut"):
                action = None  # nothing to alter
            if action == "corrupt":
                payload = corrupt_bytes(payload)
            elif action == "garble":
                payload = garble_bytes(payload)
            if action != "slow":
                proxy._record(Seen(self.command, path, status, action, seen_range))
            self._send(status, out, payload, cut=action == "cut")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _proxy

    return Handler
