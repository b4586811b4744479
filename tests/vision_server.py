"""A stand-in for Cloud Vision's ``images:asyncBatchAnnotate`` over plain HTTP (tests only).

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
- ``GET /{version}/{name}`` polls it: RUNNING for ``polls_until_done`` polls, then
  DONE with a ``response`` (the request's ``outputConfig``) or an ``error``.

When an operation ends well, its output is written as the service does, before the
DONE answer: ``output-{first}-to-{last}.json`` glued onto the destination uri,
``batchSize`` (default 20) ``{"responses": [...]}`` per file in request order, each
response with ``context.uri``, through the storage client given to the constructor
(and kept in :attr:`Operation.outputs` either way). Responses come from the
package's generator (:func:`vision_results.synth.image_response`), seeded by the
image uri, and hold the kinds of annotation the request's features ask for.

Errors are google.rpc-style JSON (``{"error": {"code", "message", "status"}}``).
Enums in the Operation (``metadata.state``) are names, or numbers when the query
asks for ``enum-encoding=int`` as the official REST transport does.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
import threading
import urllib.parse
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final

import orjson
from google.api_core.future.polling import DEFAULT_POLLING
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials
from google.cloud import vision_v1

from vision_results.synth import image_response

Json = dict[str, Any]

MAX_IMAGES: Final = 2000
DEFAULT_BATCH_SIZE: Final = 20
UPLOAD_THREADS: Final = 8
NEVER: Final = sys.maxsize  # polls_until_done for an operation that never finishes
VERSIONS: Final = ("v1", "v1p1beta1")

# Feature.Type numbers, as the REST transport sends them with enum-encoding=int.
FEATURE_TYPES: Final = {
    0: "TYPE_UNSPECIFIED",
    1: "FACE_DETECTION",
    2: "LANDMARK_DETECTION",
    3: "LOGO_DETECTION",
    4: "LABEL_DETECTION",
    5: "TEXT_DETECTION",
    6: "SAFE_SEARCH_DETECTION",
    7: "IMAGE_PROPERTIES",
    9: "CROP_HINTS",
    10: "WEB_DETECTION",
    11: "DOCUMENT_TEXT_DETECTION",
    12: "PRODUCT_SEARCH",
    19: "OBJECT_LOCALIZATION",
}
# The AnnotateImageResponse fields each feature fills.
FEATURE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "TYPE_UNSPECIFIED": (),
    "FACE_DETECTION": ("faceAnnotations",),
    "LANDMARK_DETECTION": ("landmarkAnnotations",),
    "LOGO_DETECTION": ("logoAnnotations",),
    "LABEL_DETECTION": ("labelAnnotations",),
    "TEXT_DETECTION": ("textAnnotations", "fullTextAnnotation"),
    "DOCUMENT_TEXT_DETECTION": ("textAnnotations", "fullTextAnnotation"),
    "SAFE_SEARCH_DETECTION": ("safeSearchAnnotation",),
    "IMAGE_PROPERTIES": ("imagePropertiesAnnotation",),
    "CROP_HINTS": ("cropHintsAnnotation",),
    "WEB_DETECTION": ("webDetection",),
    "PRODUCT_SEARCH": ("productSearchResults",),
    "OBJECT_LOCALIZATION": ("localizedObjectAnnotations",),
}
# Lists a feature's maxResults cuts short.
_CAPPED = frozenset(
    {
        "faceAnnotations",
        "landmarkAnnotations",
        "logoAnnotations",
        "labelAnnotations",
        "localizedObjectAnnotations",
    }
)
# Fields the generator always fills in a non-empty response, and the ones the
# stand-in insists on when asked for (it draws again until they are there).
_ALWAYS = frozenset({"labelAnnotations", "textAnnotations", "fullTextAnnotation"})
_INSISTED = frozenset({"faceAnnotations"})

STATE_NUMBERS: Final = {"STATE_UNSPECIFIED": 0, "CREATED": 1, "RUNNING": 2, "DONE": 3}
RPC_STATUS: Final = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    16: "UNAUTHENTICATED",
}
HTTP_STATUS: Final = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_SUBMIT = re.compile(
    r"/(?P<version>v1|v1p1beta1)/"
    r"(?:(?P<parent>projects/[^/]+(?:/locations/[^/]+)?)/)?images:asyncBatchAnnotate"
)
_POLL = re.compile(
    r"/(?P<version>v1|v1p1beta1)/"
    r"(?P<name>(?:projects/[^/]+/)?(?:locations/[^/]+/)?operations/[^/]+)"
)
_PARENT = re.compile(r"projects/[^/]+(?:/locations/[^/]+)?")

# For the official client in tests: `operation.result(polling=FAST_POLLING)` (a plain
# Retry would not do: polling retries only on the "not done yet" exception), and
# `retry=FAST_RETRY` on calls to retry transient errors without waiting seconds.
FAST_POLLING: Final = DEFAULT_POLLING.with_delay(
    initial=0.01, maximum=0.05, multiplier=1.5
).with_timeout(10)
FAST_RETRY: Final = Retry(initial=0.01, maximum=0.05, multiplier=1.5, timeout=10)


@dataclass(frozen=True)
class Script:
    """How one operation goes.

    The server's constructor arguments make its :attr:`VisionServer.default`;
    :meth:`VisionServer.script` queues a copy with some fields changed for the
    next submitted operation.
    """

    # Polls answered RUNNING before the one answered DONE (NEVER: none is).
    polls_until_done: int = 0
    # End DONE with this google.rpc error (code, message) instead of writing output.
    fail_with: tuple[int, str] | None = None
    # HTTP statuses (503, 429, ...) answering this operation's first polls, one each.
    transient: Sequence[int] = ()
    # Image uri -> (code, message): that image's response is an error.
    failed_images: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    # False: responses without ``context``, as older beta protos write them.
    with_context: bool = True


@dataclass
class Recorded:
    """One HTTP request to the stand-in and the status it got."""

    method: str
    path: str  # path and query, as sent
    headers: dict[str, str]  # keys lower-cased
    body: Any  # parsed JSON; None when empty, the raw text when not JSON
    status: int = 0

    @property
    def decoded_path(self) -> str:
        """The path and query percent-decoded (``?$alt=json;enum-encoding=int``)."""
        return urllib.parse.unquote(self.path)


@dataclass
class Operation:
    """One submitted operation, as the stand-in sees it."""

    name: str
    version: str
    parent: str | None
    request: Json  # the submitted body (with the path's parent)
    script: Script
    create_time: str
    update_time: str
    state: str = "CREATED"
    done: bool = False
    polls: int = 0
    error: tuple[int, str] | None = None
    outputs: dict[str, bytes] = field(default_factory=dict)  # gs:// uri -> file
    transient: deque[int] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def destination(self) -> str:
        uri: str = self.request["outputConfig"]["gcsDestination"]["uri"]
        return uri

    @property
    def batch_size(self) -> int:
        return int(self.request["outputConfig"].get("batchSize") or DEFAULT_BATCH_SIZE)


def v1_client(url: str) -> vision_v1.ImageAnnotatorClient:
    """The official v1 client on the stand-in at `url`: REST transport, no credentials."""
    return vision_v1.ImageAnnotatorClient(
        transport="rest",
        client_options={"api_endpoint": url},
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
    )


class ApiError(Exception):
    """Answer the request with this HTTP status and google.rpc error."""

    def __init__(self, http_status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.message = message


def rpc_error(http_status: int, message: str) -> Json:
    return {
        "error": {
            "code": http_status,
            "message": message,
            "status": HTTP_STATUS.get(http_status, "UNKNOWN"),
        }
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def feature_name(value: Any) -> str:
    """A Feature.type given by name or number, as its name."""
    if isinstance(value, bool):
        raise ApiError(400, f"Invalid value at 'type': {value!r}")
    if isinstance(value, int) and value in FEATURE_TYPES:
        return FEATURE_TYPES[value]
    if isinstance(value, str) and value in FEATURE_FIELDS:
        return value
    raise ApiError(400, f"Invalid value at 'requests[].features[].type' ({value!r})")


def image_uri(request: Json) -> str | None:
    """The uri of an AnnotateImageRequest's image (``imageUri``, else ``gcsImageUri``)."""
    source = (request.get("image") or {}).get("source") or {}
    uri = source.get("imageUri") or source.get("gcsImageUri")
    return str(uri) if uri else None


def max_results(feature: Json) -> int:
    """A Feature's maxResults (0: not set)."""
    value = feature.get("maxResults") or 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError(400, f"Invalid value at 'requests[].features[].max_results' ({value!r})")
    try:
        return int(value)
    except ValueError:
        raise ApiError(
            400, f"Invalid value at 'requests[].features[].max_results' ({value!r})"
        ) from None


@functools.lru_cache(maxsize=8192)
def _generated(key: str, seed: int, words_per_image: int, insisted: frozenset[str]) -> Json:
    """A full (non-error, non-empty) generated response for `key`, holding `insisted`.
    Shared by the cache: never changed, only serialised."""
    base = zlib.crc32(f"{seed}/{key}".encode())
    first: Json | None = None
    for index in range(1, 200):
        candidate = image_response(base, index, words_per_image=words_per_image)
        if "error" in candidate or not _ALWAYS.issubset(candidate):
            continue
        first = first or candidate
        if insisted.issubset(candidate):
            return candidate
    assert first is not None
    return first


def annotate_json(
    request: Json, *, seed: int = 0, words_per_image: int = 12, with_context: bool = True
) -> bytes:
    """The AnnotateImageResponse the stand-in gives for one AnnotateImageRequest, as
    JSON: the fields its features ask for, drawn deterministically from the image uri."""
    uri = image_uri(request)
    if uri is not None:
        key = uri
    else:
        content = (request.get("image") or {}).get("content") or ""
        key = f"content:{zlib.crc32(str(content).encode()):08x}"
    wanted: dict[str, int] = {}  # field -> maxResults (0: all)
    for feature in request.get("features") or []:
        limit = max_results(feature)
        for name in FEATURE_FIELDS[feature_name(feature.get("type", 0))]:
            earlier = wanted.get(name, limit)
            wanted[name] = max(earlier, limit) if earlier and limit else 0
    generated = _generated(key, seed, words_per_image, frozenset(wanted) & _INSISTED)
    response: Json = {}
    for name, value in generated.items():  # the generator's order is the proto's
        if name not in wanted:
            continue
        limit = wanted[name]
        response[name] = value[:limit] if limit and name in _CAPPED else value
    if with_context and uri is not None:
        response["context"] = {"uri": uri}
    return orjson.dumps(response)


def annotate(
    request: Json, *, seed: int = 0, words_per_image: int = 12, with_context: bool = True
) -> Json:
    """:func:`annotate_json`, parsed."""
    response: Json = orjson.loads(
        annotate_json(
            request, seed=seed, words_per_image=words_per_image, with_context=with_context
        )
    )
    return response


class VisionServer:
    """The stand-in on a free loopback port (``start()``/``stop()`` or ``with``).

    `storage_client` (a ``google.cloud.storage.Client``, e.g. on fake-gcs-server)
    receives the output files; without one they are only kept in
    :attr:`Operation.outputs`. The keyword arguments make :attr:`default`, the
    :class:`Script` of every operation not scripted otherwise; `transient` statuses
    answer the server's next requests of any kind (submits and polls), one each.

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
        if "failed_images" in changes:
            changes["failed_images"] = dict(changes["failed_images"])
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

    def response_for(self, request: Json, script: Script | None = None) -> Json:
        """The response the stand-in writes for one AnnotateImageRequest."""
        response: Json = orjson.loads(self._response_json(request, script or self.default))
        return response

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

    def _submit(self, version: str, path_parent: str | None, body: Any, int_enums: bool) -> Json:
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON payload received: expected an object.")
        parent = path_parent or body.get("parent") or None
        if parent is not None and not _PARENT.fullmatch(str(parent)):
            raise ApiError(
                400, f"Invalid parent {parent!r}: want projects/* or projects/*/locations/*."
            )
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, "No requests specified.")
        if len(requests) > MAX_IMAGES:
            raise ApiError(
                400, f"At most {MAX_IMAGES} images are allowed per request; got {len(requests)}."
            )
        output: Json = body.get("outputConfig") or {}
        uri = (output.get("gcsDestination") or {}).get("uri")
        if not isinstance(uri, str) or not uri.startswith("gs://") or uri[5:6] in ("", "/"):
            raise ApiError(400, "outputConfig.gcsDestination.uri must be a gs:// URI.")
        batch_size = output.get("batchSize", 0)
        try:
            batch_size = int(batch_size or 0)
        except (TypeError, ValueError):
            raise ApiError(
                400, f"Invalid value at 'output_config.batch_size' ({batch_size!r})"
            ) from None
        if batch_size and not 1 <= batch_size <= 100:
            raise ApiError(400, f"batchSize must be between 1 and 100, not {batch_size}.")
        for request in requests:
            for feature in (request or {}).get("features") or []:
                feature_name(feature.get("type", 0))
                max_results(feature)
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
        requests: list[Json] = operation.request["requests"]
        size = operation.batch_size
        bucket_name, _, prefix = operation.destination.removeprefix("gs://").partition("/")
        files: dict[str, bytes] = {}
        for start in range(0, len(requests), size):
            chunk = requests[start : start + size]
            responses = b",".join(self._response_json(r or {}, operation.script) for r in chunk)
            name = f"{prefix}output-{start + 1}-to-{start + len(chunk)}.json"
            files[name] = b'{"responses":[' + responses + b"]}"
        if self.storage_client is not None:
            bucket = self.storage_client.bucket(bucket_name)

            def upload(item: tuple[str, bytes]) -> None:
                blob = bucket.blob(item[0])
                blob.upload_from_string(item[1], content_type="application/json")

            with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
                list(pool.map(upload, files.items()))
        operation.outputs.update({f"gs://{bucket_name}/{n}": data for n, data in files.items()})

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
                    match["version"], match["parent"], recorded.body, int_enums
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
