"""A stand-in for Cloud Vision's two asyncBatchAnnotate methods over plain HTTP (tests only).

The real clients talk to it as to the service: ``google.cloud.vision_v1``'s REST
transport with ``client_options={"api_endpoint": server.url}`` (the ``http://``
scheme turns TLS off) and ``AnonymousCredentials``, or any HTTP session for the
v1p1beta1 surface, which the Python client lacks::

    with VisionServer(storage_client, polls_until_done=2) as server:
        server.script(fail_with=(8, "Quota exceeded."))   # the next operation fails
        ... submit, poll ...
        server.requests                                    # everything that came in

Served (``v1`` and ``v1p1beta1``; any query string, e.g. ``?$alt=json;enum-encoding=int``):

- ``POST /{version}/[projects/P/[locations/L/]]images:asyncBatchAnnotate`` starts an
  operation: validated where cheap (1..2,000 requests, ``batchSize`` 1..100, a
  ``gs://`` destination, known feature types given by name or number), answered
  with a ``google.longrunning.Operation`` in state CREATED.
- ``POST /{version}/[projects/P/[locations/L/]]files:asyncBatchAnnotate`` (PDF, TIFF,
  GIF; tests/vision_files.py) likewise: 1 or more requests (no limit is documented),
  each with a ``gs://`` input, a known ``mimeType``, features, destination and
  ``batchSize`` as above; unknown fields (``pages``) are refused as Google refuses them.
- ``GET /{version}/{name}`` polls either: RUNNING for ``polls_until_done`` polls, then
  DONE with an ``error`` or a ``response``: the request's ``outputConfig``
  (AsyncBatchAnnotateImagesResponse), or each file request's (...FilesResponse).

When an operation ends well, its output is written as the service does, before the
DONE answer: ``output-{first}-to-{last}.json`` glued onto the destination uri,
``batchSize`` (default 20) ``{"responses": [...]}`` per file in request order, each
response with ``context.uri``, through the storage client given to the constructor
(and kept in :attr:`Operation.outputs` either way). Responses come from the
package's generator (:func:`vision_results.synth.image_response`), seeded by the
image uri, and hold the kinds of annotation the request's features ask for.

A file operation reads each input object through the same client and writes its
pages' answers onto that request's destination (tests/vision_files.py says how).

Errors are google.rpc-style JSON (``{"error": {"code", "message", "status"}}``).
Enums in the Operation (``metadata.state``) are names, or numbers when the query
asks for ``enum-encoding=int`` as the official REST transport does.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
import urllib.parse
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import orjson

from tests.vision_files import file_outputs, file_requests, files_response, page_json, read_object
from tests.vision_responses import (
    _PARENT,
    _POLL,
    _SUBMIT,
    FAST_POLLING,
    FAST_RETRY,
    FEATURE_TYPES,
    MAX_IMAGES,
    NEVER,
    STATE_NUMBERS,
    ApiError,
    Json,
    Operation,
    Recorded,
    Script,
    _now,
    annotate,
    annotate_json,
    check_images,
    image_uri,
    output_uri,
    rpc_error,
    upload,
    v1_client,
)


class VisionServer:
    """The stand-in on a free loopback port (``start()``/``stop()`` or ``with``).

    `storage_client` (a ``google.cloud.storage.Client``, e.g. on fake-gcs-server)
    receives the output files and holds the input files of file operations; without
    one the output is only kept in :attr:`Operation.outputs` and no input file exists.
    The keyword arguments make :attr:`default`, the :class:`Script` of every
    operation not scripted otherwise; `transient` statuses answer the server's next
    requests of any kind (submits and polls), one each.

    Per operation, in this order of precedence: a :class:`Script` queued with
    :meth:`script`; what `on_submit` (called with the request body, parent
    included) returns, unless None; :attr:`default`.
    """

    def __init__(
        self,
        storage_client: Any = None,
        *,
        polls_until_done: int = 0,
        fail_with: tuple[int, str] | None = None,
        transient: Iterable[int] = (),
        failed_images: Mapping[str, tuple[int, str]] | None = None,
        with_context: bool = True,
        failed_files: Mapping[str, tuple[int, str]] | None = None,
        failed_pages: Mapping[tuple[str, int], tuple[int, str]] | None = None,
        with_total_pages: bool = True,
        on_submit: Callable[[Json], Script | None] | None = None,
        seed: int = 0,
        words_per_image: int = 12,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.storage_client = storage_client
        self.default = Script(
            polls_until_done=polls_until_done,
            fail_with=fail_with,
            failed_images=dict(failed_images or {}),
            with_context=with_context,
            failed_files=dict(failed_files or {}),
            failed_pages=dict(failed_pages or {}),
            with_total_pages=with_total_pages,
        )
        self.on_submit = on_submit
        self.seed = seed
        self.words_per_image = words_per_image
        self._address = (host, port)
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._operations: dict[str, Operation] = {}
        self._scripts: deque[Script] = deque()
        self._transient: deque[int] = deque(transient)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> VisionServer:
        if self._httpd is not None:
            return self
        handler = type("Handler", (_Handler,), {"stand_in": self})
        httpd = ThreadingHTTPServer(self._address, handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> VisionServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the Vision stand-in is not running")
        port: int = self._httpd.server_address[1]
        return port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the ``api_endpoint`` for the clients."""
        return f"http://{self._address[0]}:{self.port}"

    # --- scripting and inspection -----------------------------------------------------

    def script(self, **changes: Any) -> Script:
        """Queue :attr:`default` with `changes` for the next operation submitted."""
        for key in ("failed_images", "failed_files", "failed_pages"):
            if key in changes:
                changes[key] = dict(changes[key])
        scripted = dataclasses.replace(self.default, **changes)
        with self._lock:
            self._scripts.append(scripted)
        return scripted

    def add_transient(self, *statuses: int) -> None:
        """Answer the next requests (any kind) with these HTTP statuses, one each."""
        with self._lock:
            self._transient.extend(statuses)

    @property
    def requests(self) -> list[Recorded]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def operations(self) -> list[Operation]:
        """Every operation submitted, in order."""
        with self._lock:
            return list(self._operations.values())

    def operation(self, name: str) -> Operation:
        with self._lock:
            return self._operations[name]

    def response_for(
        self, request: Json, script: Script | None = None, *, page: int | None = None
    ) -> Json:
        """The response the stand-in writes for one AnnotateImageRequest, or with `page`
        for that page of an AsyncAnnotateFileRequest's file."""
        script = script or self.default
        if page is None:
            data = self._response_json(request, script)
        else:
            (checked,) = file_requests({"requests": [request]})
            data = page_json(checked, page, script, **self._generator)
        response: Json = orjson.loads(data)
        return response

    @property
    def _generator(self) -> dict[str, int]:
        return {"seed": self.seed, "words_per_image": self.words_per_image}

    def _response_json(self, request: Json, script: Script) -> bytes:
        uri = image_uri(request)
        if uri is not None and uri in script.failed_images:
            code, message = script.failed_images[uri]
            failed: Json = {"error": {"code": code, "message": message}}
            return orjson.dumps(
                {**failed, "context": {"uri": uri}} if script.with_context else failed
            )
        return annotate_json(
            request,
            seed=self.seed,
            words_per_image=self.words_per_image,
            with_context=script.with_context,
        )

    # --- the API ------------------------------------------------------------------------

    def _record(self, recorded: Recorded) -> int | None:
        """Keep the request; the transient status to answer it with, if any."""
        with self._lock:
            self._requests.append(recorded)
            return self._transient.popleft() if self._transient else None

    def _submit(
        self, version: str, method: str, path_parent: str | None, body: Any, int_enums: bool
    ) -> Json:
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON payload received: expected an object.")
        parent = path_parent or body.get("parent") or None
        if parent is not None and not _PARENT.fullmatch(str(parent)):
            raise ApiError(
                400, f"Invalid parent {parent!r}: want projects/* or projects/*/locations/*."
            )
        if method == "files":
            file_requests(body)
        else:
            check_images(body)
        now = _now()
        project = parent.split("/locations/")[0] if parent else None
        name = f"{project + '/' if project else ''}operations/{uuid.uuid4().hex[:16]}"
        with self._lock:
            script = self._scripts.popleft() if self._scripts else None
        if script is None and self.on_submit is not None:
            script = self.on_submit({**body, **({"parent": parent} if parent else {})})
        script = script or self.default
        operation = Operation(
            name=name,
            version=version,
            parent=parent,
            request={**body, **({"parent": parent} if parent else {})},
            method=method,
            script=script,
            create_time=now,
            update_time=now,
            transient=deque(script.transient),
        )
        with self._lock:
            self._operations[name] = operation
        return self._operation_json(operation, version, int_enums)

    def _poll(self, version: str, name: str, int_enums: bool) -> tuple[int, Json]:
        with self._lock:
            operation = self._operations.get(name)
        if operation is None:
            raise ApiError(404, f"Operation {name} not found.")
        with operation.lock:
            if operation.transient:
                status = operation.transient.popleft()
                return status, rpc_error(status, f"Transient error {status} (scripted).")
            if not operation.done:
                operation.polls += 1
                if operation.polls > operation.script.polls_until_done:
                    self._finish(operation)
                elif operation.state != "RUNNING":
                    operation.state, operation.update_time = "RUNNING", _now()
            return 200, self._operation_json(operation, version, int_enums)

    def _finish(self, operation: Operation) -> None:
        if operation.script.fail_with is not None:
            operation.error = operation.script.fail_with
        else:
            try:
                self._write_output(operation)
            except Exception as exc:  # the service would fail the operation
                operation.error = (13, f"Vision stand-in could not write the output: {exc}")
        operation.state, operation.done, operation.update_time = "DONE", True, _now()

    def _write_output(self, operation: Operation) -> None:
        """Every output file, in memory and (uploaded by a few threads) in the bucket."""
        script = operation.script
        files: dict[str, bytes] = {}
        if operation.method == "files":
            read = functools.partial(read_object, self.storage_client)
            files = file_outputs(file_requests(operation.request), script, read, **self._generator)
        else:
            requests: list[Json] = operation.request["requests"]
            size = operation.batch_size
            for start in range(0, len(requests), size):
                chunk = requests[start : start + size]
                responses = b",".join(self._response_json(r or {}, script) for r in chunk)
                name = output_uri(operation.destination, start + 1, start + len(chunk))
                files[name] = b'{"responses":[' + responses + b"]}"
        upload(self.storage_client, files)
        operation.outputs.update(files)

    def _operation_json(self, operation: Operation, version: str, int_enums: bool) -> Json:
        package = f"type.googleapis.com/google.cloud.vision.{version}"
        state: str | int = STATE_NUMBERS[operation.state] if int_enums else operation.state
        answer: Json = {
            "name": operation.name,
            "metadata": {
                "@type": f"{package}.OperationMetadata",
                "state": state,
                "createTime": operation.create_time,
                "updateTime": operation.update_time,
            },
            "done": operation.done,
        }
        if operation.done and operation.error is not None:
            code, message = operation.error
            answer["error"] = {"code": code, "message": message}
        elif operation.done and operation.method == "files":
            answer["response"] = {
                "@type": f"{package}.AsyncBatchAnnotateFilesResponse",
                "responses": files_response(file_requests(operation.request)),
            }
        elif operation.done:
            answer["response"] = {
                "@type": f"{package}.AsyncBatchAnnotateImagesResponse",
                "outputConfig": operation.request["outputConfig"],
            }
        return answer

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Json]:
        """Answer one request: (HTTP status, JSON body)."""
        try:
            body: Any = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = raw.decode(errors="replace")
        recorded = Recorded(method, raw_path, headers, body)
        status, answer = self._answer(recorded)
        recorded.status = status
        return status, answer

    def _answer(self, recorded: Recorded) -> tuple[int, Json]:
        transient = self._record(recorded)
        if transient is not None:
            return transient, rpc_error(transient, f"Transient error {transient} (scripted).")
        split = urllib.parse.urlsplit(recorded.path)
        path = urllib.parse.unquote(split.path)
        int_enums = "enum-encoding=int" in urllib.parse.unquote(split.query)
        try:
            if recorded.method == "POST" and (match := _SUBMIT.fullmatch(path)):
                if isinstance(recorded.body, str):
                    raise ApiError(400, "Invalid JSON payload received.")
                return 200, self._submit(
                    match["version"], match["method"], match["parent"], recorded.body, int_enums
                )
            if recorded.method == "GET" and (match := _POLL.fullmatch(path)):
                return self._poll(match["version"], match["name"], int_enums)
            raise ApiError(404, f"The Vision stand-in does not serve {recorded.method} {path}.")
        except ApiError as exc:
            return exc.http_status, rpc_error(exc.http_status, exc.message)
        except Exception as exc:  # a bug here, or a request shape it does not know
            return 500, rpc_error(500, f"Vision stand-in failed: {exc!r}")


class _Handler(BaseHTTPRequestHandler):
    stand_in: VisionServer  # set on the subclass made by VisionServer.start
    protocol_version = "HTTP/1.1"
    timeout = 30

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, answer = self.stand_in.handle(self.command, self.path, headers, raw)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


__all__ = [
    "FAST_POLLING",
    "FAST_RETRY",
    "FEATURE_TYPES",
    "MAX_IMAGES",
    "NEVER",
    "Operation",
    "Recorded",
    "Script",
    "VisionServer",
    "annotate",
    "image_uri",
    "v1_client",
]
