"""Cloud Storage: the one module that builds its clients, retries its requests and
turns what still fails into this package's errors.

Both clients, google-cloud-storage's (:func:`storage_client`) and pyarrow's
(:func:`gcs_filesystem`), are built here from the same settings:
``STORAGE_EMULATOR_HOST`` (an emulator, no credentials) or Application Default
Credentials. Objects are listed (:func:`list_objects`), read (:func:`read_object`)
and written (:func:`write_object`) with google-cloud-storage's own retry policy
(:func:`read_retry`). An exception left after the retries is translated once, by
:func:`storage_error`, into a :class:`~vision_results.errors.SourceError` (or the
caller's kind: :class:`~vision_results.errors.DestinationError`,
:class:`~vision_results.errors.JobError`) saying which object, what failed (the
HTTP status and the server's message) and what to do, never with a credential.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal

from google.api_core.exceptions import (
    Forbidden,
    GoogleAPICallError,
    GoogleAPIError,
    NotFound,
    RetryError,
    Unauthorized,
)
from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError

# google-cloud-storage (2.x and 3.x) depends on google-resumable-media; 3.x raises its
# own DataCorruption and InvalidResponse, subclasses of these when it is installed.
from google.resumable_media import DataCorruption, InvalidResponse

from vision_results.errors import DestinationError, SourceError, VisionResultsError

if TYPE_CHECKING:
    import pyarrow.fs as pafs
    from google.api_core.retry import Retry

DEFAULT_DEADLINE = 120.0
"""Seconds a request (a listing page, a download, an upload) is retried for, in all
(google-cloud-storage's)."""
DEFAULT_TIMEOUT = 60.0
"""Seconds one request may wait for the server (google-cloud-storage's default)."""
EMULATOR_PROJECT = "vision-results"
"""The project both clients name on an emulator, which takes any."""

STORAGE_ERRORS: tuple[type[Exception], ...] = (
    GoogleAPIError,  # HTTP errors, and RetryError once the deadline is spent
    GoogleAuthError,  # credentials that cannot be used
    InvalidResponse,  # resumable-media's HTTP errors
    DataCorruption,  # a download whose bytes do not match the object's checksum
    OSError,  # connection errors and timeouts (requests' are OSErrors; pyarrow's too)
    ValueError,  # an answer that is not JSON (cut or corrupted in transit)
)
"""What a storage call raises once its retries are spent: every one is translated by
:func:`storage_error`."""

Action = Literal["list", "read", "write"]
_FAILED: dict[Action, str] = {
    "list": "cannot list the objects of bucket {bucket}",
    "read": "download failed",
    "write": "upload failed",
}


def read_retry(
    deadline: float = DEFAULT_DEADLINE,
    *,
    on_retry: Callable[[Exception], None] | None = None,
    refused_is_final: bool = False,
) -> Retry:
    """How every storage request is retried: google-cloud-storage's own policy (429,
    408, 5xx, dropped or cut connections, timeouts; exponential back-off from 1 s to
    60 s), for at most `deadline` seconds per request (a listing page, a download, an
    upload: :func:`write_object` explains why its uploads may be retried too).

    ``on_retry`` is told of each error that is about to be retried. With
    ``refused_is_final`` a refused connection is not retried: on the very first
    request it means nothing listens at the endpoint, and waiting would only hide it.
    Chain ``.with_delay(...)`` for other back-off delays.
    """
    if not deadline > 0:
        raise ValueError(f"the retry deadline must be a positive number of seconds, not {deadline}")
    from google.cloud.storage.retry import DEFAULT_RETRY  # type: ignore[attr-defined,unused-ignore]

    retry: Retry = DEFAULT_RETRY.with_timeout(deadline)
    if on_retry is None and not refused_is_final:
        return retry
    # The library's predicate still decides what is retried.
    from google.cloud.storage.retry import _should_retry

    def should_retry(exc: Exception) -> bool:
        if refused_is_final and _refused(exc):
            return False
        retried: bool = _should_retry(exc)
        if retried and on_retry is not None:
            on_retry(exc)
        return retried

    told: Retry = retry.with_predicate(should_retry)
    return told


def _refused(exc: BaseException | None) -> bool:
    """Whether a connection was refused somewhere in the chain of ``exc``."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ConnectionRefusedError) or "Connection refused" in str(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def why_failed(exc: BaseException) -> str:
    """What went wrong with a request, in words: the last HTTP status and the server's
    message, or the connection error. Never a header, so never a credential."""
    if isinstance(exc, RetryError) and exc.cause is not None:
        return f"gave up after retrying ({exc.message}); last error: {why_failed(exc.cause)}"
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, GoogleAPICallError) and exc.code is not None:
        status = exc.code
    if isinstance(exc, GoogleAPICallError | InvalidResponse) and status is not None:
        try:
            text = f"HTTP {int(status)} {HTTPStatus(int(status)).phrase}"
        except ValueError:
            text = f"HTTP {status}"
        message = getattr(exc, "message", "")
        return f"{text}: {message}" if message else text
    if isinstance(exc, json.JSONDecodeError):
        return f"the answer is not valid JSON ({exc})"
    return f"{type(exc).__name__}: {exc}"


def identity(client: Any) -> str:
    """Who a storage client acts as, for messages: an account name and the kind of
    credentials, never a token or key."""
    # google-cloud-core keeps a client's credentials in ``_credentials``.
    credentials = getattr(client, "_credentials", None)
    if credentials is None or type(credentials).__name__ == "AnonymousCredentials":
        return "anonymous (no credentials)"
    account = getattr(credentials, "service_account_email", None) or getattr(
        credentials, "account", None
    )
    kind = f"{type(credentials).__module__}.{type(credentials).__name__}"
    return f"{account} ({kind})" if account else kind


def storage_error(
    exc: BaseException,
    url: str,
    *,
    action: Action = "read",
    failed: str | None = None,
    client: Any = None,
    kind: type[VisionResultsError] = SourceError,
    wait_option: str | None = None,
) -> VisionResultsError:
    """The error to raise for `exc`, what a request about ``gs://`` `url` raised
    after its retries: ``URL: FAILED: WHY. ADVICE``.

    `action` says what was asked of storage, hence the advice (which role to grant,
    what a 404 means); `failed` replaces the words of what failed (default:
    "cannot list the objects of bucket B", "download failed", "upload failed").
    `client` names the identity in a refusal (401, 403) and the endpoint that does
    not answer; `wait_option` is the option that makes the caller wait for it.
    """
    bucket = _split(url)[0]
    if isinstance(exc, DataCorruption):
        # Not retried: the bytes received are not the object's. Never hand them on.
        return kind(
            f"{url}: downloaded bytes do not match the object's checksum (corrupted in "
            "transit). Try again; if it persists, check the network path."
        )
    failed = failed or _FAILED[action].format(bucket=bucket)
    advice = _advice(exc, bucket, action, client, wait_option)
    return kind(f"{url}: {failed}: {why_failed(exc)}{advice}")


def _advice(
    exc: BaseException, bucket: str, action: Action, client: Any, wait_option: str | None
) -> str:
    """What to do about a failure: which endpoint, bucket or identity (never a secret).
    pyarrow's filesystem says 403 and 404 as PermissionError and FileNotFoundError."""
    if _refused(exc):
        emulator = _emulator()
        endpoint = getattr(client, "api_endpoint", None) or (
            "://".join(emulator) if emulator else "the storage endpoint"
        )
        wait = f", or give {wait_option} to wait for it" if wait_option else ""
        return f". Nothing answers at {endpoint}: check STORAGE_EMULATOR_HOST or the network{wait}"
    if isinstance(exc, Forbidden | Unauthorized | PermissionError):
        who = f", {identity(client)}," if client is not None else ""
        may, role = ("read", "objectViewer") if action != "write" else ("write to", "objectUser")
        return (
            f". The credentials used{who} may not {may} bucket {bucket}: grant them "
            f"roles/storage.{role} on it, or use other credentials "
            "(GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login)"
        )
    if isinstance(exc, NotFound | FileNotFoundError) and action == "read":
        return f". There is no such object (or no bucket {bucket!r}): check the name"
    if isinstance(exc, NotFound | FileNotFoundError):
        # Listing or writing: only a missing bucket answers 404.
        return f". There is no bucket {bucket!r}: check the bucket name"
    return ""


def _split(url: str) -> tuple[str, str]:
    """``gs://bucket/name`` as (bucket, name)."""
    bucket, _, name = url.removeprefix("gs://").partition("/")
    return bucket, name


def list_objects(
    url: str,
    client: Any = None,
    *,
    page_size: int | None = None,
    retry: Retry | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    wait_option: str | None = None,
) -> Iterator[Any]:
    """The objects (google-cloud-storage blobs) under ``gs://bucket/prefix``, in name
    order, page by page. Each page is retried by `retry`; by default
    :func:`read_retry`, but a refused connection fails at once: listing is the first
    request, so nothing listens at the endpoint."""
    bucket, prefix = _split(url)
    client = client if client is not None else storage_client()
    retry = retry if retry is not None else read_retry(refused_is_final=True)
    try:
        yield from client.list_blobs(
            bucket, prefix=prefix or None, page_size=page_size, retry=retry, timeout=timeout
        )
    except STORAGE_ERRORS as exc:
        raise storage_error(
            exc, url, action="list", client=client, wait_option=wait_option
        ) from exc


def read_object(
    url: str,
    client: Any = None,
    *,
    generation: int | None = None,
    retry: Retry | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    failed: str | None = None,
    kind: type[VisionResultsError] = SourceError,
    wait_option: str | None = None,
) -> bytes:
    """The bytes of one ``gs://`` object (at `generation`, if given), checked against
    its checksum and retried by `retry` (default :func:`read_retry`). Failures are
    `kind` (see :func:`storage_error` for `failed` and `wait_option`)."""
    bucket, name = _split(url)
    client = client if client is not None else storage_client()
    try:
        blob = client.bucket(bucket).blob(name, generation=generation)
        data: bytes = blob.download_as_bytes(
            checksum="auto", retry=retry if retry is not None else read_retry(), timeout=timeout
        )
    except STORAGE_ERRORS as exc:
        raise storage_error(
            exc, url, failed=failed, client=client, kind=kind, wait_option=wait_option
        ) from exc
    return data


def read_if_exists(url: str, client: Any = None) -> bytes | None:
    """The bytes of one ``gs://`` object, or None when there is no such object (any
    other failure is a SourceError, as :func:`read_object` says)."""
    try:
        return read_object(url, client)
    except SourceError as exc:
        if isinstance(exc.__cause__, NotFound):
            return None
        raise


def write_object(
    url: str,
    data: bytes,
    client: Any = None,
    *,
    content_type: str = "application/octet-stream",
    failed: str | None = None,
    kind: type[VisionResultsError] = DestinationError,
) -> None:
    """Write `data` as the whole object `url`, replacing any; failures are `kind`.

    Retried by :func:`read_retry`. google-cloud-storage does not retry an upload
    without a generation precondition, lest a repeated one replace a newer object;
    the objects this package writes (``_job.json``) have one writer, which writes
    them whole, so an upload repeated after a lost answer leaves the same object.
    """
    bucket, name = _split(url)
    client = client if client is not None else storage_client()
    try:
        client.bucket(bucket).blob(name).upload_from_string(
            data, content_type=content_type, retry=read_retry(), timeout=DEFAULT_TIMEOUT
        )
    except STORAGE_ERRORS as exc:
        raise storage_error(
            exc, url, action="write", failed=failed, client=client, kind=kind
        ) from exc


def _emulator() -> tuple[str, str] | None:
    """``(scheme, host:port)`` of the emulator ``STORAGE_EMULATOR_HOST`` names, as
    ``http://host:port`` or as ``host:port`` (the form other clients accept); None
    without one."""
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if not emulator:
        return None
    scheme, _, host = emulator.rpartition("://")
    return scheme or "http", host.rstrip("/")


def storage_client() -> Any:
    """Build the Cloud Storage client: the one place this package does so.

    With ``STORAGE_EMULATOR_HOST`` set (a local emulator), no credentials are
    needed; otherwise Application Default Credentials are used.
    """
    from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]

    emulator = _emulator()
    if emulator:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        # The Python client takes its endpoint as is: without a scheme every request
        # would fail, so one is added to the host:port form.
        return storage.Client(
            project=EMULATOR_PROJECT,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint="://".join(emulator)),
        )
    try:
        return storage.Client()
    except DefaultCredentialsError as exc:
        raise SourceError(no_credentials(exc)) from exc


def gcs_filesystem() -> pafs.GcsFileSystem:
    """pyarrow's GCS filesystem, from the settings of :func:`storage_client`, retrying
    for :data:`DEFAULT_DEADLINE` as :func:`read_retry` does. Build it where it is used
    (client or worker): it takes that machine's environment."""
    import pyarrow.fs as pafs

    deadline = timedelta(seconds=DEFAULT_DEADLINE)
    emulator = _emulator()
    if emulator is None:
        return pafs.GcsFileSystem(retry_time_limit=deadline)
    scheme, host = emulator
    return pafs.GcsFileSystem(
        anonymous=True,
        scheme=scheme,
        endpoint_override=host,
        retry_time_limit=deadline,
        project_id=EMULATOR_PROJECT,
    )


def no_credentials(exc: DefaultCredentialsError) -> str:
    """What google-auth's refusal means, and what to do: with
    ``GOOGLE_APPLICATION_CREDENTIALS`` set, its own reason (no such file, not a key
    file) and the file; else how to get credentials."""
    key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if key_file:
        return (
            f"GOOGLE_APPLICATION_CREDENTIALS names {key_file}, which cannot be used: {exc} "
            "Point it at a service account key file (JSON), or unset it to use "
            "`gcloud auth application-default login`."
        )
    return (
        "no Google Cloud credentials found. Run `gcloud auth application-default login`, "
        "or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file."
    )
