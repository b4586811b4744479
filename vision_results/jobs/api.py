"""The two Vision API surfaces that start and poll asyncBatchAnnotate operations, of
images (``images:asyncBatchAnnotate``) and of files (``files:asyncBatchAnnotate``:
PDF, TIFF, GIF).

- v1 (the default) goes through the official ``google-cloud-vision`` client
  (``async_batch_annotate_images``, ``async_batch_annotate_files``);
- v1p1beta1 has no async method in the Python client, so it is called as REST
  (``POST /v1p1beta1/{parent=projects/*}/images:asyncBatchAnnotate`` or
  ``.../files:asyncBatchAnnotate``, ``GET /v1p1beta1/{name}``) through google-auth's
  authorized session. Without
  ``parent`` it is scoped to the project of Application Default Credentials or
  ``$GOOGLE_CLOUD_PROJECT`` (:func:`default_project`); only with no project at
  all does it post to the unscoped ``/v1p1beta1/images:asyncBatchAnnotate``.

Both retry transient errors (429, 503, connection resets) with google-api-core's
:class:`~google.api_core.retry.Retry`. :func:`vision_api` is the one place the
clients are built.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from google.api_core import exceptions as core_exceptions
from google.api_core.retry import Retry, if_exception_type

from vision_results.errors import JobError, UsageError
from vision_results.jobs.manifest import mime_type
from vision_results.storage import no_credentials

ENDPOINT_VARIABLE = "VISION_RESULTS_VISION_ENDPOINT"
API_VERSIONS = ("v1", "v1p1beta1")
OPERATION_STATES = ("STATE_UNSPECIFIED", "CREATED", "RUNNING", "DONE", "CANCELLED")
FEATURES = (
    "FACE_DETECTION",
    "LANDMARK_DETECTION",
    "LOGO_DETECTION",
    "LABEL_DETECTION",
    "TEXT_DETECTION",
    "DOCUMENT_TEXT_DETECTION",
    "SAFE_SEARCH_DETECTION",
    "IMAGE_PROPERTIES",
    "CROP_HINTS",
    "WEB_DETECTION",
    "PRODUCT_SEARCH",
    "OBJECT_LOCALIZATION",
)
"""The feature types of v1 ``Feature.Type`` (but TYPE_UNSPECIFIED)."""

TRANSIENT = if_exception_type(
    core_exceptions.TooManyRequests,
    core_exceptions.ServiceUnavailable,
    core_exceptions.InternalServerError,
    ConnectionError,
)
DEFAULT_RETRY = Retry(predicate=TRANSIENT, initial=1.0, maximum=30.0, timeout=300.0)
"""How Vision API calls (starting an operation, reading its state) are retried; not
storage's :func:`~vision_results.storage.read_retry`, which is google-cloud-storage's
predicate for its own transport (requests' and resumable-media's errors; 408, 429,
5xx), for 120 s per request. Vision's errors come as google-api-core exceptions, over
gRPC or REST: only 429 (RESOURCE_EXHAUSTED), 500, 503 and dropped connections are
asked again, and for longer (5 minutes, at most 30 s apart), as its quotas are counted
per minute."""


@dataclass
class OperationStatus:
    name: str
    state: str
    done: bool
    error_code: int | None = None
    error_message: str | None = None


class VisionApi(Protocol):
    """Start an operation of images or of files; read its status by name.
    ``default_parent`` is the ``parent`` used when a job names none (None: the
    service chooses)."""

    default_parent: str | None

    def start(self, requests: list[dict[str, Any]], output: str, batch_size: int,
              parent: str | None) -> str: ...  # fmt: skip

    def start_files(self, requests: list[dict[str, Any]], parent: str | None) -> str:
        """Start ``files:asyncBatchAnnotate``: each request has its own outputConfig."""
        ...

    def status(self, name: str) -> OperationStatus: ...


def check_features(features: list[str]) -> None:
    """Refuse an unknown feature type before anything is started."""
    import difflib

    for name in features:
        if name not in FEATURES:
            close = difflib.get_close_matches(name, FEATURES, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise UsageError(f"unknown feature type {name!r}: {hint}Known: {', '.join(FEATURES)}.")
    if not features:
        raise UsageError(f"no feature types given. Give one or more of: {', '.join(FEATURES)}.")


def _features(features: list[str], max_results: int | None) -> list[dict[str, Any]]:
    return [
        {"type": name, **({"maxResults": max_results} if max_results else {})} for name in features
    ]


def image_requests(
    images: list[str], features: list[str], max_results: int | None
) -> list[dict[str, Any]]:
    """AnnotateImageRequests in the REST JSON form."""
    feature_list = _features(features, max_results)
    return [{"image": {"source": {"imageUri": uri}}, "features": feature_list} for uri in images]


def file_requests(
    files: list[tuple[str, str]], features: list[str], max_results: int | None, batch_size: int
) -> list[dict[str, Any]]:
    """AsyncAnnotateFileRequests in the REST JSON form, for (uri, output prefix) each,
    the mimeType from the uri's suffix: ``batch_size`` pages per output file. The
    async request has no ``pages`` field (only the synchronous ``files:annotate``
    has one): every page of a file is annotated."""
    feature_list = _features(features, max_results)
    return [
        {
            "inputConfig": {"gcsSource": {"uri": uri}, "mimeType": mime_type(uri)},
            "features": feature_list,
            "outputConfig": {"gcsDestination": {"uri": output}, "batchSize": batch_size},
        }
        for uri, output in files
    ]


def _status(name: str, done: bool, state: str, error: dict[str, Any] | None) -> OperationStatus:
    if error and error.get("code"):
        return OperationStatus(name, "FAILED", True, error["code"], error.get("message") or None)
    return OperationStatus(name, "DONE" if done else state, done)


class V1Api:
    """v1 through ``google.cloud.vision_v1.ImageAnnotatorClient``."""

    default_parent: str | None = None  # the v1 client posts to the unscoped path, as before

    def __init__(self, client: Any, retry: Retry = DEFAULT_RETRY) -> None:
        self.client = client
        self.retry = retry

    def start(
        self, requests: list[dict[str, Any]], output: str, batch_size: int, parent: str | None
    ) -> str:
        from google.cloud import vision_v1

        request = vision_v1.AsyncBatchAnnotateImagesRequest.from_json(
            _dumps(
                {
                    "requests": requests,
                    "outputConfig": {"gcsDestination": {"uri": output}, "batchSize": batch_size},
                    **({"parent": parent} if parent else {}),
                }
            )
        )
        operation = self.client.async_batch_annotate_images(request=request, retry=self.retry)
        name: str = operation.operation.name
        return name

    def start_files(self, requests: list[dict[str, Any]], parent: str | None) -> str:
        from google.cloud import vision_v1

        request = vision_v1.AsyncBatchAnnotateFilesRequest.from_json(
            _dumps({"requests": requests, **({"parent": parent} if parent else {})})
        )
        operation = self.client.async_batch_annotate_files(request=request, retry=self.retry)
        name: str = operation.operation.name
        return name

    def status(self, name: str) -> OperationStatus:
        from google.cloud import vision_v1

        operation = self.client.get_operation({"name": name}, retry=self.retry)
        metadata = vision_v1.OperationMetadata.deserialize(operation.metadata.value)
        state = OPERATION_STATES[int(metadata.state)]
        error = {"code": operation.error.code, "message": operation.error.message}
        return _status(name, operation.done, state, error)


class RestApi:
    """v1p1beta1 (or any version) as plain REST through an authorized session."""

    def __init__(
        self,
        session: Any,
        endpoint: str,
        version: str = "v1p1beta1",
        retry: Retry = DEFAULT_RETRY,
        project: str | None = None,
    ) -> None:
        self.session = session
        self.base = f"{endpoint.rstrip('/')}/{version}"
        self.retry = retry
        self.default_parent = f"projects/{project}" if project else None

    def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            response = self.session.request(method, url, json=body, timeout=60)
            if response.status_code >= 400:
                raise core_exceptions.from_http_response(response)  # type: ignore[no-untyped-call]
            result: dict[str, Any] = response.json()
            return result

        answer: dict[str, Any] = self.retry(once)()
        return answer

    def start(
        self, requests: list[dict[str, Any]], output: str, batch_size: int, parent: str | None
    ) -> str:
        config = {"gcsDestination": {"uri": output}, "batchSize": batch_size}
        return self._start("images", {"requests": requests, "outputConfig": config}, parent)

    def start_files(self, requests: list[dict[str, Any]], parent: str | None) -> str:
        return self._start("files", {"requests": requests}, parent)

    def _start(self, kind: str, body: dict[str, Any], parent: str | None) -> str:
        parent = parent or self.default_parent
        path = f"{parent}/{kind}:asyncBatchAnnotate" if parent else f"{kind}:asyncBatchAnnotate"
        body = {**body, **({"parent": parent} if parent else {})}
        name: str = self._call("POST", f"{self.base}/{path}", body)["name"]
        return name

    def status(self, name: str) -> OperationStatus:
        operation = self._call("GET", f"{self.base}/{name}")
        state = (operation.get("metadata") or {}).get("state", "STATE_UNSPECIFIED")
        return _status(name, bool(operation.get("done")), state, operation.get("error"))


def _dumps(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def vision_api(version: str = "v1", endpoint: str | None = None) -> VisionApi:
    """Build the API client: the one place this package does so.

    ``endpoint`` (or ``$VISION_RESULTS_VISION_ENDPOINT``) points at another Vision
    endpoint: a regional one (``https://eu-vision.googleapis.com``) or, with
    ``http://``, a local stand-in, which needs no credentials. Otherwise
    Application Default Credentials are used.
    """
    if version not in API_VERSIONS:
        raise UsageError(f"API version must be one of {', '.join(API_VERSIONS)}")
    endpoint = endpoint or os.environ.get(ENDPOINT_VARIABLE) or "https://vision.googleapis.com"
    from google.auth.exceptions import DefaultCredentialsError

    try:
        return _build(version, endpoint)
    except DefaultCredentialsError as exc:
        raise JobError(no_credentials(exc)) from exc


def _build(version: str, endpoint: str) -> VisionApi:
    local = endpoint.startswith("http://")
    credentials = _anonymous() if local else None
    if version == "v1":
        from google.cloud import vision_v1

        if local:  # the REST transport; the http:// scheme turns TLS off
            client = vision_v1.ImageAnnotatorClient(
                transport="rest", client_options={"api_endpoint": endpoint}, credentials=credentials
            )
        else:
            host = endpoint.removeprefix("https://").rstrip("/")
            client = vision_v1.ImageAnnotatorClient(client_options={"api_endpoint": host})
        return V1Api(client)
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    if credentials is None:
        credentials, project = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    else:
        project = default_project()
    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    return RestApi(session, endpoint, version, project=project)


def default_project() -> str | None:
    """The project a job is scoped to when it names no ``parent``, for a local
    stand-in (against Google, ``google.auth.default()`` answers the same way):
    ``$GOOGLE_CLOUD_PROJECT``, else the ``project_id`` of the key file that
    ``$GOOGLE_APPLICATION_CREDENTIALS`` names, else None. Nothing is asked of a
    metadata server or of gcloud."""
    project = os.environ.get("GOOGLE_CLOUD_PROJECT")
    key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if project or not key_file:
        return project or None
    try:
        info = json.loads(Path(key_file).read_bytes())
    except (OSError, ValueError) as exc:
        raise JobError(
            f"{key_file} (GOOGLE_APPLICATION_CREDENTIALS) cannot be read as a key file: {exc}"
        ) from None
    found = info.get("project_id") if isinstance(info, dict) else None
    return str(found) if found else None


def _anonymous() -> Any:
    from google.auth.credentials import AnonymousCredentials

    return AnonymousCredentials()  # type: ignore[no-untyped-call]
