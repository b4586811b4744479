"""Where shards come from: the only module that touches storage for reading.

A SOURCE is a ``gs://bucket/prefix``, a local folder, or one local file.
:func:`open_source` turns it into a :class:`Source` that lists the shards under
it (:meth:`Source.list`) and reads one shard's bytes (:meth:`Source.read`).
Everything after this module works on bytes and is pure.

Which objects under a prefix or folder are shards: those matching ``include``
(globs, against the path relative to SOURCE or the file name); by default
Vision's own ``output-N-to-M.json`` names under a ``gs://`` prefix and every
``*.json`` file in a local folder (where users keep responses under names of
their own). This package's own records are never shards.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

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

from vision_results.errors import SourceError

if TYPE_CHECKING:
    from google.api_core.retry import Retry

BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")
SHARD_NAME = re.compile(r"output-(\d+)-to-(\d+)\.json$")
EXPORT_RECORD = "_export.json"
MANIFEST_NAME = "_job.json"
"""The job manifest :mod:`vision_results.jobs` writes beside its output."""
PROGRESS_RECORD = "_progress.json"
"""What an unfinished export has written so far (:mod:`vision_results.resume`)."""
OWN_FILES = {
    EXPORT_RECORD: "export record of vision-results, not Vision output",
    MANIFEST_NAME: "job manifest of vision-results, not Vision output",
    PROGRESS_RECORD: "progress record of an unfinished export, not Vision output",
}
LOCAL_DEFAULT = ("*.json",)
PART = re.compile(r"[a-z_]+/part-[0-9-]+\.parquet")
"""A table's part file at the root of an export (``writer.py``, ``distributed.py``)."""
"""What is read in a local folder unless ``include`` says otherwise."""
log = logging.getLogger("vision_results")
DEFAULT_PAGE_SIZE = 1000
DEFAULT_DEADLINE = 120.0
"""Seconds a listing page or a download is retried for, in all (google-cloud-storage's)."""
DEFAULT_TIMEOUT = 60.0
"""Seconds one request may wait for the server (google-cloud-storage's default)."""


def read_retry(
    deadline: float = DEFAULT_DEADLINE,
    *,
    on_retry: Callable[[Exception], None] | None = None,
    refused_is_final: bool = False,
) -> Retry:
    """How listing pages and downloads are retried: google-cloud-storage's own policy
    (429, 408, 5xx, dropped or cut connections, timeouts; exponential back-off from
    1 s to 60 s), for at most `deadline` seconds per page or shard.

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


@dataclass(frozen=True)
class Shard:
    """One output file of a Vision job.

    ``name`` is the path relative to the SOURCE (the ``shard`` column of every
    table), so a ``gs://`` prefix and a local copy of it give identical tables;
    ``location`` is the full address.
    """

    name: str
    location: str
    size: int
    generation: int | None = None
    job_uris: tuple[str, ...] = ()
    """From a job manifest: the input of each response position."""
    keep: tuple[bool, ...] | None = None
    """From a job manifest: False for responses a later retry supersedes."""


@dataclass
class Listing:
    """What a SOURCE holds: the shards in reading order, and what was left out."""

    source: str
    shards: list[Shard] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    manifest: Shard | None = None
    """The job manifest at the SOURCE's root, when the job was started by submit."""
    candidates: list[Shard] = field(default_factory=list)
    """Ignored objects that may hold Vision responses all the same (JSON files with
    names of their own): the export looks inside, so none passes silently."""


class Source(Protocol):
    """A place to list and read shards from."""

    location: str

    def list(self) -> Listing: ...

    def read(self, shard: Shard) -> bytes: ...


def shard_order(name: str) -> tuple[str, int, int, str]:
    """Sort key: folder, then the numbers of ``output-N-to-M`` (never the string)."""
    folder, _, base = name.rpartition("/")
    match = SHARD_NAME.search(base)
    first, last = (int(match[1]), int(match[2])) if match else (0, 0)
    return folder, first, last, name


def classify(name: str, include: Sequence[str] | None = None) -> str | None:
    """Why an object under the SOURCE is not read, or None when it is a shard.
    ``include``: globs a shard's path (relative to SOURCE) or file name matches;
    None: Vision's own names, ``output-N-to-M.json``."""
    if name.endswith("/"):
        return "folder placeholder"
    base = name.rpartition("/")[2]
    if base in OWN_FILES:
        return OWN_FILES[base]
    if include is None:
        if SHARD_NAME.search(base):
            return None
        return "name is not output-N-to-M.json (--include GLOB reads other names)"
    if any(fnmatch(name, glob) or fnmatch(base, glob) for glob in include):
        return None
    if include == LOCAL_DEFAULT:
        return "not a .json file (--include GLOB reads other names)"
    return f"not matched by --include {' '.join(include)}"


def might_be_vision(name: str) -> bool:
    """Whether an ignored object may hold Vision responses all the same (a JSON file
    with a name of its own), so that the export looks inside before ignoring it."""
    base = name.rpartition("/")[2]
    return base.lower().endswith(".json") and base not in OWN_FILES


def is_export_record(data: bytes) -> bool:
    """Whether ``data`` is an ``_export.json`` this package wrote."""
    try:
        record = json.loads(data)
    except ValueError:
        return False
    return isinstance(record, dict) and {"source", "tables", "shards", "version"} <= set(record)


def _sorted_listing(source: str, entries: list[tuple[Shard, str | None]]) -> Listing:
    listing = Listing(source)
    for shard, reason in entries:
        if shard.name == MANIFEST_NAME:
            listing.manifest = shard
        if reason is None:
            listing.shards.append(shard)
        else:
            listing.ignored.append((shard.name, reason))
            if might_be_vision(shard.name):
                listing.candidates.append(shard)
    listing.shards.sort(key=lambda s: shard_order(s.name))
    listing.ignored.sort()
    return listing


def _an_export(location: str, record: bytes | None = None) -> SourceError:
    source = f" ({json.loads(record)['source']})" if record else ""
    return SourceError(
        f"{location} is an export of vision-results (it has {EXPORT_RECORD} and tables), "
        f"not Vision output: read its tables as they are (vr.open, pandas, DuckDB), or "
        f"export its SOURCE{source} again."
    )


class LocalSource:
    """A folder (walked recursively, like a GCS prefix) or a single file, by its
    absolute path: responses without ``context`` take their shard's location as
    ``uri``, which must not change with the working directory."""

    def __init__(self, path: Path, include: Sequence[str] | None = None) -> None:
        self.path = path.absolute()
        self.location = str(self.path)
        self.include = tuple(include) if include else LOCAL_DEFAULT

    def list(self) -> Listing:
        if self.path.is_file():
            # A file named on the command line is read whatever its name.
            stat = self.path.stat()
            shard = Shard(self.path.name, str(self.path), stat.st_size, stat.st_mtime_ns)
            return Listing(self.location, [shard])
        if not self.path.is_dir():
            raise SourceError(f"{self.path}: no such file or folder. Check the SOURCE path.")
        record = self.path / EXPORT_RECORD
        if record.is_file() and is_export_record(data := record.read_bytes()):
            raise _an_export(self.location, data)
        entries = []
        for path in self.path.rglob("*"):
            if path.is_dir():
                continue
            name = path.relative_to(self.path).as_posix()
            stat = path.stat()
            # The modification time stands in for a GCS generation (--resume).
            shard = Shard(name, str(path), stat.st_size, stat.st_mtime_ns)
            entries.append((shard, classify(name, self.include)))
        return _sorted_listing(self.location, entries)

    def read(self, shard: Shard) -> bytes:
        try:
            return Path(shard.location).read_bytes()
        except OSError as exc:
            raise SourceError(f"{shard.location}: cannot read ({exc.strerror})") from exc


class GcsSource:
    """Objects under ``gs://bucket/prefix``, listed with paging, read by generation."""

    def __init__(
        self,
        url: str,
        client: Any,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        retry: Retry | None = None,
        deadline: float | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        include: Sequence[str] | None = None,
    ) -> None:
        """`retry` applies to each listing page and each download; by default
        :func:`read_retry` for `deadline` seconds (None: the default deadline, but a
        refused connection while listing fails at once), saying on the log (stderr)
        what it retries. `timeout` is how long one request waits for the server
        (seconds, or (connect, read)). `include`: globs of the shards to read (default:
        ``output-N-to-M.json`` names)."""
        bucket, _, prefix = url.removeprefix("gs://").partition("/")
        if not bucket:
            raise SourceError(f"{url}: no bucket name. Write gs://BUCKET/PREFIX.")
        if not BUCKET_NAME.fullmatch(bucket):
            raise SourceError(
                f"{url}: {bucket!r} is not a bucket name (3 to 63 lower-case letters, "
                "digits, '-', '_' and '.'). Write gs://BUCKET/PREFIX."
            )
        self.location = url
        self.bucket_name = bucket
        self.prefix = prefix
        self.client = client
        self.page_size = page_size
        self.ours = retry is None
        self.deadline = deadline
        self.retry = read_retry(deadline or DEFAULT_DEADLINE) if retry is None else retry
        self.timeout = timeout
        self.include = tuple(include) if include else None

    def _retry(self, what: str, *, listing: bool = False) -> Retry:
        """The caller's policy, or ours for ``what``, telling the log of each retry."""
        if not self.ours:
            return self.retry
        deadline = self.deadline or DEFAULT_DEADLINE

        def notice(exc: Exception) -> None:
            log.warning(
                "retrying %s: %s (for up to %.0f s in all; --retry-deadline SECONDS changes it)",
                what, why_failed(exc), deadline,
            )  # fmt: skip

        return read_retry(deadline, on_retry=notice, refused_is_final=listing and not self.deadline)

    def list(self) -> Listing:
        entries = []
        try:
            blobs = self.client.list_blobs(
                self.bucket_name,
                prefix=self.prefix or None,
                page_size=self.page_size,
                retry=self._retry(f"listing {self.location}", listing=True),
                timeout=self.timeout,
            )
            for blob in blobs:
                name = blob.name[len(self.prefix) :].lstrip("/") or blob.name
                shard = Shard(
                    name, f"gs://{self.bucket_name}/{blob.name}", blob.size or 0, blob.generation
                )
                entries.append((shard, classify(name, self.include)))
        except (GoogleAPIError, GoogleAuthError, ValueError, OSError) as exc:
            # What is left after the client's retries; a page that is not JSON (cut
            # or corrupted in transit) is a ValueError, and is not retried.
            raise SourceError(
                f"{self.location}: cannot list the objects of bucket {self.bucket_name}: "
                f"{why_failed(exc)}{self._advice(exc)}"
            ) from exc
        names = {shard.name for shard, _ in entries}
        if EXPORT_RECORD in names and any(PART.fullmatch(name) for name in names):
            # Told from its names: nothing outside the shards is downloaded.
            raise _an_export(self.location)
        if not entries:
            raise SourceError(
                f"{self.location}: no objects under this prefix. Check the bucket and prefix "
                "(the job's outputConfig.gcsDestination.uri)."
            )
        return _sorted_listing(self.location, entries)

    def read(self, shard: Shard) -> bytes:
        object_name = shard.location.removeprefix(f"gs://{self.bucket_name}/")
        blob = self.client.bucket(self.bucket_name).blob(object_name, generation=shard.generation)
        try:
            data: bytes = blob.download_as_bytes(
                checksum="auto", retry=self._retry(shard.location), timeout=self.timeout
            )
        except DataCorruption as exc:
            # Not a GoogleAPIError, and not retried: the bytes received do not match
            # the object's checksum. Never hand them on.
            raise SourceError(
                f"{shard.location}: downloaded bytes do not match the object's checksum "
                "(corrupted in transit). Export again; if it persists, check the network path."
            ) from exc
        except (GoogleAPIError, GoogleAuthError, InvalidResponse, OSError) as exc:
            # Whatever is left after the client's retries: HTTP errors, connection
            # errors and timeouts (requests' exceptions are OSErrors), credentials.
            raise SourceError(
                f"{shard.location}: download failed: {why_failed(exc)}{self._advice(exc)}"
            ) from exc
        return data

    def _advice(self, exc: BaseException) -> str:
        """What to do about a refusal: which bucket, which identity (never a secret)."""
        if _refused(exc):
            endpoint = getattr(self.client, "api_endpoint", None) or "the storage endpoint"
            return (
                f". Nothing answers at {endpoint}: check STORAGE_EMULATOR_HOST or the network, "
                "or give --retry-deadline SECONDS to wait for it"
            )
        if isinstance(exc, Forbidden | Unauthorized):
            return (
                f". The credentials used, {identity(self.client)}, may not read bucket "
                f"{self.bucket_name}: grant them roles/storage.objectViewer on it, or use "
                "other credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth "
                "application-default login)"
            )
        if isinstance(exc, NotFound) and "bucket" in str(exc).lower():
            return f". Check the bucket name {self.bucket_name!r}"
        return ""


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


def read_object(url: str, client: Any = None) -> bytes:
    """The bytes of one ``gs://`` object (e.g. a picture to draw boxes on), checked
    against its checksum and retried like a shard."""
    bucket, _, name = url.removeprefix("gs://").partition("/")
    client = client if client is not None else storage_client()
    try:
        data: bytes = (
            client.bucket(bucket)
            .blob(name)
            .download_as_bytes(checksum="auto", retry=read_retry(), timeout=DEFAULT_TIMEOUT)
        )
    except DataCorruption as exc:
        raise SourceError(f"{url}: downloaded bytes do not match the object's checksum") from exc
    except (GoogleAPIError, GoogleAuthError, InvalidResponse, OSError, ValueError) as exc:
        raise SourceError(f"{url}: download failed: {why_failed(exc)}") from exc
    return data


def storage_client() -> Any:
    """Build the Cloud Storage client: the one place this package does so.

    With ``STORAGE_EMULATOR_HOST`` set (a local emulator, ``http://host:port`` or
    ``host:port``), no credentials are needed; otherwise Application Default
    Credentials are used.
    """
    from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]

    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        # The Python client takes the variable as the endpoint as is; without a
        # scheme (the form other clients accept) every request would fail.
        endpoint = emulator if "://" in emulator else f"http://{emulator}"
        return storage.Client(
            project="vision-results",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    try:
        return storage.Client()
    except DefaultCredentialsError as exc:
        raise SourceError(no_credentials(exc)) from exc


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


def open_source(
    location: str | os.PathLike[str] | Source,
    *,
    client: Any = None,
    retry_deadline: float | None = None,
    include: Sequence[str] | None = None,
) -> Source:
    """Turn a SOURCE string (or path) into a :class:`Source`; a Source is returned as is
    (to read with settings of your own, e.g. ``GcsSource(url, client, retry=...)``).
    ``retry_deadline``: seconds each listing page or download of a ``gs://`` SOURCE
    is retried for (:func:`read_retry`; None: the default, and a refused connection
    while listing fails at once). ``include``: globs of the shards to read (see the
    module's docstring for the defaults)."""
    if not isinstance(location, str | os.PathLike):
        return location
    text = os.fspath(location)
    if text.lower().startswith("gs:") and not text.startswith("gs://"):
        raise SourceError(
            f"{text}: not a Cloud Storage URL. Write gs://BUCKET/PREFIX (two slashes "
            "after gs:, lower case)."
        )
    if text.startswith("gs://"):
        client = client if client is not None else storage_client()
        return GcsSource(text, client, deadline=retry_deadline, include=include)
    if "://" in text:
        raise SourceError(f"{text}: unsupported scheme. Use gs://BUCKET/PREFIX or a local path.")
    return LocalSource(Path(text), include)
