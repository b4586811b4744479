"""From a shard's bytes to its responses, each with its join key.

Accepted shapes (see docs/tables.md, "What is read"):

- an image-job shard ``{"responses": [AnnotateImageResponse, ...]}``, also without
  ``context`` (a synchronous ``images:annotate`` answer saved to a file);
- a file-job shard ``{"inputConfig": ..., "responses": [...]}`` whose responses'
  ``context`` carries ``pageNumber``; a synchronous ``files:annotate`` answer
  (``{"responses": [{"responses": [...]}]}``) is unpacked the same way; a file
  that failed as a whole (``error`` and no responses) gives one response with
  that error;
- one bare AnnotateImageResponse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from vision_results.errors import ShardError

Response = dict[str, Any]

RESPONSE_FIELDS = frozenset(
    {
        "faceAnnotations",
        "landmarkAnnotations",
        "logoAnnotations",
        "labelAnnotations",
        "localizedObjectAnnotations",
        "textAnnotations",
        "fullTextAnnotation",
        "safeSearchAnnotation",
        "imagePropertiesAnnotation",
        "cropHintsAnnotation",
        "webDetection",
        "productSearchResults",
        "context",
        "error",
    }
)


@dataclass
class ParsedShard:
    """The responses of one shard, in order, with their ``uri`` and ``page_number``.

    ``response_index`` of a response is its position in these lists, or, once
    superseded responses are dropped (:meth:`keep`), its entry in ``indexes``.
    """

    shard: str
    uris: list[str] = field(default_factory=list)
    pages: list[int | None] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    files: list[dict[str, Any] | None] = field(default_factory=list)
    """For file jobs, the AnnotateFileResponse (``inputConfig``, ``totalPages``) of
    each response; None for image jobs."""
    job_uris: Sequence[str] = ()
    """The uri of each position according to the job manifest, for responses
    without ``context``."""
    indexes: list[int] | None = None

    def __len__(self) -> int:
        return len(self.responses)

    def keep(self, mask: Sequence[bool]) -> None:
        """Drop the responses whose ``mask`` entry is False (superseded by a retry)."""
        kept = [i for i, wanted in enumerate(mask) if wanted and i < len(self.responses)]
        self.indexes = kept
        self.uris = [self.uris[i] for i in kept]
        self.pages = [self.pages[i] for i in kept]
        self.responses = [self.responses[i] for i in kept]
        self.files = [self.files[i] for i in kept]


def _object(value: Any, shard: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShardError(shard, f"{where} is {type(value).__name__}, expected a JSON object")
    return value


def _add(
    parsed: ParsedShard,
    response: Response,
    fallback_uri: str,
    file: dict[str, Any] | None = None,
) -> None:
    context = response.get("context") or {}
    position = len(parsed.responses)
    job_uri = parsed.job_uris[position] if position < len(parsed.job_uris) else None
    parsed.uris.append(context.get("uri") or job_uri or fallback_uri)
    # proto3: page 0 means "not set"; image jobs have no page.
    parsed.pages.append(context.get("pageNumber") or None)
    parsed.responses.append(response)
    parsed.files.append(file)


def _add_file_response(
    parsed: ParsedShard, file_response: dict[str, Any], location: str, where: str
) -> None:
    input_config = file_response.get("inputConfig") or {}
    fallback = (input_config.get("gcsSource") or {}).get("uri") or location
    file = file_response if input_config or "totalPages" in file_response else None
    responses = file_response.get("responses") or []
    if not isinstance(responses, list):
        raise ShardError(location, f"{where}responses is not a list")
    if not responses and file_response.get("error"):
        # The whole file failed: keep its error as a row of its own.
        _add(parsed, {"error": file_response["error"]}, fallback, file)
    for index, item in enumerate(responses):
        item = _object(item, location, f"{where}responses[{index}]")
        if "responses" in item or "inputConfig" in item:
            _add_file_response(parsed, item, location, f"{where}responses[{index}].")
        else:
            _add(parsed, item, fallback, file)


def parse_shard(
    data: bytes, shard: str, location: str, job_uris: Sequence[str] = ()
) -> ParsedShard:
    """Parse one shard. ``shard`` is its name in tables, ``location`` its address,
    ``job_uris`` the input of each position from a job manifest, if there is one.

    Raises :class:`ShardError` naming the shard when the bytes are not JSON or
    not a Vision response. Unknown fields are kept in the dicts and ignored later.
    """
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ShardError(location, f"not valid JSON ({exc})") from None
    parsed = ParsedShard(shard, job_uris=job_uris)
    if isinstance(document, dict) and ("responses" in document or "inputConfig" in document):
        _add_file_response(parsed, document, location, "")
    elif isinstance(document, dict) and (not document or RESPONSE_FIELDS & document.keys()):
        _add(parsed, document, location)
    else:
        found = (
            f"an object with keys {sorted(document)[:5]}"
            if isinstance(document, dict)
            else f"a JSON {type(document).__name__}"
        )
        raise ShardError(
            location,
            f'not a Vision response: expected {{"responses": [...]}} or one '
            f"AnnotateImageResponse, found {found}",
        )
    return parsed
