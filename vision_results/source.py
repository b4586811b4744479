"""Where shards come from (``gs://`` objects through :mod:`vision_results.storage`).

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from vision_results.errors import SourceError

# DEFAULT_DEADLINE and storage_client are re-exported ("as"): cli.py, distributed.py,
# the benchmarks and the notebooks import them from here.
from vision_results.storage import DEFAULT_DEADLINE as DEFAULT_DEADLINE
from vision_results.storage import (
    DEFAULT_TIMEOUT,
    list_objects,
    read_object,
    read_retry,
    why_failed,
)
from vision_results.storage import storage_client as storage_client

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
"""What is read in a local folder unless ``include`` says otherwise."""
PART = re.compile(r"[a-z_]+/part-[0-9-]+\.parquet")
"""A table's part file at the root of an export (``writer.py``, ``distributed.py``)."""
log = logging.getLogger("vision_results")
DEFAULT_PAGE_SIZE = 1000
RETRY_OPTION = "--retry-deadline SECONDS"
"""The export's option (``retry_deadline=`` in Python) that sets how long requests are retried."""


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

    def read_into(self, shard: Shard, buffer: bytearray) -> memoryview:
        """The shard's bytes, read into ``buffer`` if they fit (else into bytes of
        their own): a view that is overwritten when ``buffer`` is read into again.
        Shards read one after the other through one buffer spare the system a new
        block of memory each, and the page faults of filling it (benchmarks/README.md)."""
        try:
            with open(shard.location, "rb", buffering=0) as file:
                count = file.readinto(buffer)
                if count < len(buffer):
                    return memoryview(buffer)[:count]
                return memoryview(bytes(buffer) + file.read())  # it grew since the listing
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
                "retrying %s: %s (for up to %.0f s in all; %s changes it)",
                what, why_failed(exc), deadline, RETRY_OPTION,
            )  # fmt: skip

        return read_retry(deadline, on_retry=notice, refused_is_final=listing and not self.deadline)

    def list(self) -> Listing:
        entries = []
        blobs = list_objects(
            self.location,
            self.client,
            page_size=self.page_size,
            retry=self._retry(f"listing {self.location}", listing=True),
            timeout=self.timeout,
            wait_option=RETRY_OPTION,
        )
        for blob in blobs:
            name = blob.name[len(self.prefix) :].lstrip("/") or blob.name
            shard = Shard(
                name, f"gs://{self.bucket_name}/{blob.name}", blob.size or 0, blob.generation
            )
            entries.append((shard, classify(name, self.include)))
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
        return read_object(
            shard.location,
            self.client,
            generation=shard.generation,
            retry=self._retry(shard.location),
            timeout=self.timeout,
            wait_option=RETRY_OPTION,
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
