"""Pieces of the Vision stand-in (tests/vision_server.py): constants, scripted
operation outcomes, recorded requests, the checks of what comes in, and the
responses it writes."""

from __future__ import annotations

import functools
import re
import sys
import threading
import urllib.parse
import zlib
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    r"/(?P<version>v1|v1p1beta1)/(?:(?P<parent>projects/[^/]+(?:/locations/[^/]+)?)/)?"
    r"(?P<method>images|files):asyncBatchAnnotate"
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
    # False: responses (file pages too) without ``context``, as older beta protos write them.
    with_context: bool = True
    # File uri -> (code, message): that file fails as a whole, its one output file
    # ``output-1-to-1.json`` holding the error instead of responses.
    failed_files: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    # (file uri, 1-based page number) -> (code, message): that page's response is an error.
    failed_pages: Mapping[tuple[str, int], tuple[int, str]] = field(default_factory=dict)
    # False: file outputs without ``totalPages`` (the real sample output has none).
    with_total_pages: bool = True


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
    method: str  # "images" or "files" (:asyncBatchAnnotate)
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
        """The output prefix of an image operation (a file operation has one per file)."""
        uri: str = self.request["outputConfig"]["gcsDestination"]["uri"]
        return uri

    @property
    def batch_size(self) -> int:
        """Responses per output file of an image operation."""
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


def check_destination(uri: Any, where: str = "outputConfig") -> str:
    """An OutputConfig's ``gcsDestination.uri``, which must be a gs:// URI."""
    if not isinstance(uri, str) or not uri.startswith("gs://") or uri[5:6] in ("", "/"):
        raise ApiError(400, f"{where}.gcsDestination.uri must be a gs:// URI.")
    return uri


def check_batch_size(value: Any) -> int:
    """An OutputConfig's ``batchSize``, 1..100, or 0 when not set (proto3 cannot tell)."""
    try:
        batch_size = int(value or 0)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid value at 'output_config.batch_size' ({value!r})") from None
    if batch_size and not 1 <= batch_size <= 100:
        raise ApiError(400, f"batchSize must be between 1 and 100, not {batch_size}.")
    return batch_size


def output_uri(destination: str, first: int, last: int) -> str:
    """``output-{first}-to-{last}.json`` glued onto the destination's object prefix."""
    bucket, _, prefix = destination.removeprefix("gs://").partition("/")
    return f"gs://{bucket}/{prefix}output-{first}-to-{last}.json"


def check_images(body: Json) -> None:
    """An ``images:asyncBatchAnnotate`` body, checked where cheap (ApiError 400)."""
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise ApiError(400, "No requests specified.")
    if len(requests) > MAX_IMAGES:
        raise ApiError(
            400, f"At most {MAX_IMAGES} images are allowed per request; got {len(requests)}."
        )
    output: Json = body.get("outputConfig") or {}
    check_destination((output.get("gcsDestination") or {}).get("uri"))
    check_batch_size(output.get("batchSize", 0))
    for request in requests:
        for feature in (request or {}).get("features") or []:
            feature_name(feature.get("type", 0))
            max_results(feature)


def upload(storage_client: Any, files: Mapping[str, bytes]) -> None:
    """Each output file (gs:// uri -> JSON) into its bucket, by a few threads; nothing
    without a storage client."""
    if storage_client is None:
        return

    def one(item: tuple[str, bytes]) -> None:
        bucket, _, name = item[0].removeprefix("gs://").partition("/")
        blob = storage_client.bucket(bucket).blob(name)
        blob.upload_from_string(item[1], content_type="application/json")

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        list(pool.map(one, files.items()))


def image_uri(request: Json) -> str | None:
    """The uri of an AnnotateImageRequest's image (``imageUri``, else ``gcsImageUri``)."""
    source = (request.get("image") or {}).get("source") or {}
    uri = source.get("imageUri") or source.get("gcsImageUri")
    return str(uri) if uri else None


def file_uri(request: Json) -> str:
    """The input file's uri of a (checked) AsyncAnnotateFileRequest."""
    return str(request["inputConfig"]["gcsSource"]["uri"])


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
    request: Json,
    *,
    seed: int = 0,
    words_per_image: int = 12,
    with_context: bool = True,
    page: int | None = None,
) -> bytes:
    """The AnnotateImageResponse the stand-in gives for one AnnotateImageRequest, as
    JSON: the fields its features ask for, drawn deterministically from the image uri.

    With `page`, `request` is a (checked) AsyncAnnotateFileRequest and the response
    that page's, drawn from ``f"{uri}#page={page}"``, its ``context`` with ``pageNumber``.
    """
    uri = image_uri(request) if page is None else file_uri(request)
    context: Json = {"uri": uri} if page is None else {"uri": uri, "pageNumber": page}
    if page is not None:
        key = f"{uri}#page={page}"
    elif uri is not None:
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
        response["context"] = context
    return orjson.dumps(response)


def annotate(
    request: Json,
    *,
    seed: int = 0,
    words_per_image: int = 12,
    with_context: bool = True,
    page: int | None = None,
) -> Json:
    """:func:`annotate_json`, parsed."""
    response: Json = orjson.loads(
        annotate_json(
            request,
            seed=seed,
            words_per_image=words_per_image,
            with_context=with_context,
            page=page,
        )
    )
    return response
