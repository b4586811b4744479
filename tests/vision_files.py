"""The ``files:asyncBatchAnnotate`` part of the Vision stand-in (tests/vision_server.py):
its requests checked as the service checks them, and its output.

Each AsyncAnnotateFileRequest names one input object (PDF, TIFF or GIF) and its own
destination. The stand-in reads the object through the storage client, counts its
pages (:func:`count_pages`: PDF ``/Type /Page`` objects; TIFF, GIF: Pillow's
``n_frames``) and writes ``output-{first}-to-{last}.json`` AnnotateFileResponses of
``batchSize`` pages each: ``{"inputConfig", "responses": [one per page], "totalPages"}``,
each page drawn from ``{uri}#page={n}`` with ``context: {uri, pageNumber}``.

The stand-in's own choices, where the service documents none: a file failing as a
whole (scripted, missing, not of its ``mimeType``, or past the documented 2,000 pages,
GIFs too) gets one ``output-1-to-1.json`` of ``{"inputConfig", "error"}``; unscripted,
the error is code 3 (INVALID_ARGUMENT) with a message naming the file's uri.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson
from google.api_core.exceptions import NotFound

from tests.vision_responses import (
    DEFAULT_BATCH_SIZE,
    ApiError,
    Json,
    Script,
    annotate_json,
    check_batch_size,
    check_destination,
    feature_name,
    file_uri,
    max_results,
    output_uri,
)

# InputConfig.mime_type -> the format Pillow names it by (the service takes these three).
MIME_TYPES: Final = {"application/pdf": "PDF", "image/tiff": "TIFF", "image/gif": "GIF"}
# "The Vision API accepts PDF/TIFF files up to 2000 pages. Larger files will return an error."
MAX_PAGES: Final = 2000
INVALID_ARGUMENT: Final = 3
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page\b")  # a page, not the /Pages tree


def _names(*fields: str) -> dict[str, str]:
    """Each proto field's JSON names (its own and lowerCamelCase: proto3 JSON parsers
    take both) -> the lowerCamelCase one."""
    names: dict[str, str] = {}
    for name in fields:
        head, *rest = name.split("_")
        camel = head + "".join(part.title() for part in rest)
        names[name] = names[camel] = camel
    return names


_BODY = _names("requests", "parent", "labels")  # AsyncBatchAnnotateFilesRequest
_REQUEST = _names("input_config", "features", "image_context", "output_config")
_INPUT = _names("gcs_source", "content", "mime_type")
_OUTPUT = _names("gcs_destination", "batch_size")
_LOCATION = _names("uri")  # GcsSource, GcsDestination


def _message(value: Any, fields: Mapping[str, str], where: str) -> Json:
    """The JSON object `value` of a message with `fields`, keyed by lowerCamelCase names
    (None: an empty one); an unknown name is refused as Google refuses it."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, f"Invalid value at '{where}': {value!r} is not an object.")
    known: Json = {}
    for key, item in value.items():
        if key not in fields:
            at = f" at '{where}'" if where else ""
            raise ApiError(
                400, f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.'
            )
        known[fields[key]] = item
    return known


def file_requests(body: Json) -> list[Json]:
    """The AsyncAnnotateFileRequests of a ``files:asyncBatchAnnotate`` body, checked
    where cheap (ApiError 400 otherwise) and in lowerCamelCase: ``{"inputConfig":
    {"gcsSource": {"uri"}, "mimeType"}, "features", "imageContext"?, "outputConfig":
    {"gcsDestination": {"uri"}, "batchSize"?}}``. No limit on files per request is
    documented, so none is enforced."""
    requests = _message(body, _BODY, "").get("requests")
    if not isinstance(requests, list) or not requests:
        raise ApiError(400, "No requests specified.")
    return [_file_request(request, f"requests[{i}]") for i, request in enumerate(requests)]


def _file_request(value: Any, where: str) -> Json:
    request = _message(value, _REQUEST, where)
    given = _message(request.get("inputConfig"), _INPUT, f"{where}.input_config")
    uri = _message(given.get("gcsSource"), _LOCATION, f"{where}.input_config.gcs_source").get("uri")
    bucket, _, name = str(uri).removeprefix("gs://").partition("/")
    if not isinstance(uri, str) or not uri.startswith("gs://") or not bucket or not name:
        raise ApiError(
            400,
            f"{where}.inputConfig.gcsSource.uri must be the gs:// URI of an object, not "
            f"{uri!r} (content works only for files:annotate).",
        )
    mime_type = given.get("mimeType")
    if not isinstance(mime_type, str) or mime_type not in MIME_TYPES:
        raise ApiError(
            400,
            f"Invalid mime type {mime_type!r} at '{where}.input_config.mime_type': "
            f"the supported ones are {', '.join(MIME_TYPES)}.",
        )
    features = request.get("features") or []
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise ApiError(400, f"Invalid value at '{where}.features': {features!r}")
    for feature in features:
        feature_name(feature.get("type", 0))
        max_results(feature)
    output = _message(request.get("outputConfig"), _OUTPUT, f"{where}.output_config")
    location = _message(
        output.get("gcsDestination"), _LOCATION, f"{where}.output_config.gcs_destination"
    )
    destination = check_destination(location.get("uri"), f"{where}.outputConfig")
    batch_size = check_batch_size(output.get("batchSize"))
    checked: Json = {
        "inputConfig": {"gcsSource": {"uri": uri}, "mimeType": mime_type},
        "features": features,
    }
    if request.get("imageContext"):
        checked["imageContext"] = request["imageContext"]
    checked["outputConfig"] = {
        "gcsDestination": {"uri": destination},
        **({"batchSize": batch_size} if batch_size else {}),
    }
    return checked


def files_response(requests: list[Json]) -> list[Json]:
    """AsyncBatchAnnotateFilesResponse.responses: each request's outputConfig, in order."""
    return [{"outputConfig": request["outputConfig"]} for request in requests]


def count_pages(data: bytes, mime_type: str) -> int:
    """The pages of a file of `mime_type`: a PDF's page objects (``/Type /Page``: pages
    kept in compressed object streams are not seen), a TIFF's or GIF's frames as
    Pillow counts them. ValueError when `data` is no such file."""
    kind = MIME_TYPES[mime_type]
    if kind == "PDF":
        pages = len(_PAGE_OBJECT.findall(data)) if b"%PDF-" in data[:1024] else 0
        if not pages:
            raise ValueError("not a PDF with page objects")
        return pages
    from PIL import Image  # here: most tests never open a file

    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            frames = int(getattr(image, "n_frames", 1))
    except Exception as exc:  # whatever Pillow raises, the file is not one of `kind`
        raise ValueError(f"not a {kind} file: {exc}") from exc
    return frames


def read_object(storage_client: Any, uri: str) -> bytes | None:
    """The bytes of the object at `uri`; None when it does not exist (or there is no
    storage client to read it with)."""
    if storage_client is None:
        return None
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    try:
        data: bytes = storage_client.bucket(bucket).blob(name).download_as_bytes()
    except NotFound:
        return None
    return data


def page_json(
    request: Json, page: int, script: Script, *, seed: int, words_per_image: int
) -> bytes:
    """The AnnotateImageResponse (JSON) for page `page` of a request's file: the
    scripted error, or what :func:`annotate_json` draws for it."""
    uri = file_uri(request)
    if (uri, page) not in script.failed_pages:
        return annotate_json(
            request,
            seed=seed,
            words_per_image=words_per_image,
            with_context=script.with_context,
            page=page,
        )
    code, message = script.failed_pages[uri, page]
    failed: Json = {"error": {"code": code, "message": message}}
    context = {"uri": uri, "pageNumber": page}
    return orjson.dumps({**failed, "context": context} if script.with_context else failed)


def _pages(uri: str, mime_type: str, data: bytes | None) -> int | tuple[int, str]:
    """The page count of the input file, or the error (code, message) it fails with.
    The service documents neither the code nor the message: both are the stand-in's."""
    if data is None:
        return INVALID_ARGUMENT, f"Input file {uri} does not exist or cannot be read."
    try:
        pages = count_pages(data, mime_type)
    except ValueError:
        return INVALID_ARGUMENT, f"Input file {uri} is not a valid {mime_type} file."
    if pages > MAX_PAGES:
        return INVALID_ARGUMENT, (
            f"Input file {uri} has {pages} pages; at most {MAX_PAGES} are supported."
        )
    return pages


def file_outputs(
    requests: list[Json],
    script: Script,
    read: Callable[[str], bytes | None],
    *,
    seed: int,
    words_per_image: int,
) -> dict[str, bytes]:
    """Every output file of a file operation (gs:// uri -> compact JSON), in request
    order; `read` gives an input object's bytes (None: it does not exist)."""
    files: dict[str, bytes] = {}
    for request in requests:
        uri, config = file_uri(request), request["inputConfig"]
        destination = request["outputConfig"]["gcsDestination"]["uri"]
        head = b'{"inputConfig":' + orjson.dumps(config)
        failure = script.failed_files.get(uri)
        pages = failure if failure is not None else _pages(uri, config["mimeType"], read(uri))
        if isinstance(pages, tuple):
            error = orjson.dumps({"code": pages[0], "message": pages[1]})
            files[output_uri(destination, 1, 1)] = head + b',"error":' + error + b"}"
            continue
        size = int(request["outputConfig"].get("batchSize") or DEFAULT_BATCH_SIZE)
        tail = b',"totalPages":%d}' % pages if script.with_total_pages else b"}"
        for first in range(1, pages + 1, size):
            last = min(first + size - 1, pages)
            responses = b",".join(
                page_json(request, n, script, seed=seed, words_per_image=words_per_image)
                for n in range(first, last + 1)
            )
            files[output_uri(destination, first, last)] = (
                head + b',"responses":[' + responses + b"]" + tail
            )
    return files


__all__ = [
    "MAX_PAGES",
    "MIME_TYPES",
    "count_pages",
    "file_outputs",
    "file_requests",
    "files_response",
    "page_json",
    "read_object",
]
