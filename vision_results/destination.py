"""Where an export is written: a local folder or ``gs://BUCKET/PREFIX``, staged.

Nothing appears under a final name until the export commits; ``_export.json``
comes last. An export writes into a staging place beside DEST (a local
``.DEST.partial-<id>/`` folder, or ``gs://BUCKET/.PREFIX.partial-<id>/``),
through a ``pyarrow.fs`` filesystem, so the part writers, the rewrites of
:mod:`vision_results.dedupe` and :mod:`vision_results.resume`, and the
accounting read and write both kinds alike. :func:`open_destination` picks one.

- :meth:`Destination.stage` makes (or, to resume, finds) the staging place;
- :class:`Staging` writes and reads records, lists and copies parts;
- :meth:`Staging.commit` puts it in place: a local folder is renamed (the old
  DEST moved aside first); on GCS, where nothing can be renamed, each object is
  copied server-side to its final name, ``_export.json`` last, after the old
  ``_export.json`` and the old objects the new export does not replace are
  deleted, so a DEST holding ``_export.json`` is always what it describes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import pyarrow.fs as pafs

from vision_results.errors import DestinationError
from vision_results.source import EXPORT_RECORD, PROGRESS_RECORD
from vision_results.storage import Action, gcs_filesystem, storage_client, storage_error

COPY_THREADS = 16
PARTIAL = ".{name}.partial-"


@dataclass
class Staging:
    """The staging place of one export: ``root`` is its path in ``filesystem``."""

    destination: Destination
    root: str
    filesystem: pafs.FileSystem

    def path(self, *names: str) -> str:
        return "/".join((self.root, *names))

    def write(self, name: str, data: bytes) -> None:
        """A record, replaced in one step (a kill leaves the old one or the new one)."""
        temporary = self.path(f"{name}.tmp")
        with self.filesystem.open_output_stream(temporary) as out:
            out.write(data)
        self.filesystem.move(temporary, self.path(name))

    def read(self, name: str) -> bytes | None:
        """A record, or None when there is none."""
        try:
            with self.filesystem.open_input_stream(self.path(name)) as stream:
                data: bytes = stream.read()
        except FileNotFoundError:
            return None
        return data

    def delete(self, name: str) -> None:
        self.filesystem.delete_file(self.path(name))

    def parts(self, table: str) -> list[str]:
        """The names of a table's part files here."""
        return _names(self.filesystem, self.path(table))

    def drop_parts(self, table: str, keep: set[str]) -> None:
        """Delete the part files of ``table`` that are not in ``keep``: those a
        killed run wrote after its last checkpoint."""
        for name in self.parts(table):
            if name not in keep:
                self.filesystem.delete_file(self.path(table, name))

    def adopt(self, table: str) -> list[str]:
        """Bring a finished DEST's part files of ``table`` here (hard links on a local
        disk, server-side copies on GCS): DEST stays as it is until replaced."""
        source = self.destination.final(table)
        names = _names(self.filesystem, source)
        self.destination.prepare(self.path(table))
        with ThreadPoolExecutor(COPY_THREADS) as pool:
            list(pool.map(self.destination.link, [f"{source}/{n}" for n in names],
                          [self.path(table, n) for n in names]))  # fmt: skip
        return names

    def commit(self) -> None:
        self.destination.commit(self)

    def abort(self) -> None:
        """Remove the staging place (a failed export that will not be resumed)."""
        self.destination.remove(self.root)


class Destination(Protocol):
    """A DEST: how to stage it, read its finished record and put a staging in place."""

    url: str
    filesystem: pafs.FileSystem

    def stage(self, *, overwrite: bool, resume: bool) -> Staging: ...

    def final(self, *names: str) -> str: ...

    def record(self) -> bytes | None: ...

    def prepare(self, folder: str) -> None: ...

    def link(self, source: str, target: str) -> None: ...

    def commit(self, staging: Staging) -> None: ...

    def remove(self, root: str) -> None: ...

    def failed(self, exc: OSError, what: str) -> DestinationError:
        """The error to raise when writing or reading DEST raised ``exc``."""
        ...


class LocalDestination:
    """A local folder, staged beside itself and renamed into place."""

    def __init__(self, path: Path) -> None:
        self.dest = path.absolute()
        self.url = str(path)
        self.filesystem: pafs.FileSystem = pafs.LocalFileSystem()

    def final(self, *names: str) -> str:
        return "/".join((str(self.dest), *names))

    def record(self) -> bytes | None:
        record = self.dest / EXPORT_RECORD
        return record.read_bytes() if record.is_file() else None

    def stage(self, *, overwrite: bool, resume: bool) -> Staging:
        if self.dest.exists() and not overwrite:
            raise DestinationError(
                f"{self.url} already exists. Choose another DEST or pass --overwrite "
                "(overwrite=True) to replace it."
            )
        if self.dest.exists() and not self.dest.is_dir():
            raise DestinationError(f"{self.url} is a file; DEST must be a folder.")
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        found = _newest(
            self.filesystem, _stagings(self.filesystem, self.dest.parent, self.dest.name)
        )
        if resume and found:
            return Staging(self, found, self.filesystem)
        prefix = PARTIAL.format(name=self.dest.name)
        return Staging(self, tempfile.mkdtemp(prefix=prefix, dir=self.dest.parent), self.filesystem)

    def prepare(self, folder: str) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)

    def link(self, source: str, target: str) -> None:
        os.link(source, target)

    def commit(self, staging: Staging) -> None:
        old = None
        if self.dest.exists():
            old = self.dest.with_name(f".{self.dest.name}.old-{uuid.uuid4().hex[:8]}")
            self.dest.rename(old)
        Path(staging.root).rename(self.dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def remove(self, root: str) -> None:
        shutil.rmtree(root, ignore_errors=True)

    def failed(self, exc: OSError, what: str) -> DestinationError:
        where = f" ({exc.filename})" if exc.filename else ""
        return DestinationError(
            f"{self.url}: {what}: {exc.strerror or exc}{where}. Check the free space "
            f"and the permissions of {self.dest.parent}."
        )


class GcsDestination:
    """``gs://BUCKET/PREFIX``, staged under ``gs://BUCKET/.PREFIX.partial-<id>/`` and
    copied into place (GCS has no rename; a single object is written atomically)."""

    def __init__(self, url: str, client: Any = None) -> None:
        bucket, _, prefix = url.removeprefix("gs://").strip("/").partition("/")
        if not bucket or not prefix:
            raise DestinationError(f"{url}: write DEST as gs://BUCKET/PREFIX (not a whole bucket).")
        self.url = url
        self.bucket = bucket
        self.dest = f"{bucket}/{prefix}"
        self.filesystem = gcs_filesystem()
        self.client = client if client is not None else storage_client()

    def final(self, *names: str) -> str:
        return "/".join((self.dest, *names))

    def record(self) -> bytes | None:
        try:
            with self.filesystem.open_input_stream(self.final(EXPORT_RECORD)) as stream:
                data: bytes = stream.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self.failed(exc, f"cannot read {EXPORT_RECORD}", action="read") from exc
        return data

    def stage(self, *, overwrite: bool, resume: bool) -> Staging:
        try:
            exists = bool(_files(self.filesystem, self.dest))
            parent, _, name = self.dest.rpartition("/")
            found = _newest(self.filesystem, self._stagings(parent, name))
        except OSError as exc:
            raise self.failed(exc, "cannot list the destination", action="list") from exc
        if exists and not overwrite:
            raise DestinationError(
                f"{self.url} already holds objects. Choose another DEST or pass --overwrite "
                "(overwrite=True) to replace them."
            )
        if resume and found:
            return Staging(self, found, self.filesystem)
        root = f"{parent}/{PARTIAL.format(name=name)}{uuid.uuid4().hex[:8]}"
        return Staging(self, root, self.filesystem)

    def _stagings(self, parent: str, name: str) -> list[str]:
        """The staging places beside DEST that hold a checkpoint, found by their
        names' prefix (a listing of the whole parent could be the whole bucket)."""
        prefix = f"{parent}/{PARTIAL.format(name=name)}".removeprefix(f"{self.bucket}/")
        found = self.client.list_blobs(
            self.bucket, prefix=prefix, match_glob=f"**/{PROGRESS_RECORD}"
        )
        return sorted({f"{self.bucket}/{blob.name.rpartition('/')[0]}" for blob in found})

    def prepare(self, folder: str) -> None:
        """An object store has no folders to make."""

    def link(self, source: str, target: str) -> None:
        self.filesystem.copy_file(source, target)

    def commit(self, staging: Staging) -> None:
        fs, record = self.filesystem, self.final(EXPORT_RECORD)
        try:
            old = set(_files(fs, self.dest))
            if record in old:
                fs.delete_file(record)
            final = {path: self.dest + path.removeprefix(staging.root)
                     for path in _files(fs, staging.root)}  # fmt: skip
            parts = [path for path, name in final.items() if name != record]
            with ThreadPoolExecutor(COPY_THREADS) as pool:
                list(pool.map(fs.delete_file, sorted(old - set(final.values()))))
                list(pool.map(fs.copy_file, parts, [final[path] for path in parts]))
            fs.copy_file(staging.path(EXPORT_RECORD), record)
            fs.delete_dir_contents(staging.root, missing_dir_ok=True)
        except OSError as exc:
            raise self.failed(
                exc, f"copying the export into place failed (it is complete under "
                f"gs://{staging.root}/)",
            ) from exc  # fmt: skip

    def remove(self, root: str) -> None:
        # A staging place left behind is harmless: only one with a checkpoint is resumed.
        with suppress(OSError):
            self.filesystem.delete_dir_contents(root, missing_dir_ok=True)

    def failed(self, exc: OSError, what: str, action: Action = "write") -> DestinationError:
        error = storage_error(exc, self.url, action=action, failed=what, kind=DestinationError)
        return cast(DestinationError, error)  # storage_error makes one of kind


def open_destination(dest: str | os.PathLike[str], client: Any = None) -> Destination:
    """The Destination of a DEST: ``gs://BUCKET/PREFIX`` (with a storage ``client`` of
    one's own, if given) or a local folder."""
    text = os.fspath(dest)
    if text.startswith("gs://"):
        return GcsDestination(text, client)
    if "://" in text:
        raise DestinationError(
            f"{text}: unsupported scheme. Use gs://BUCKET/PREFIX or a local path."
        )
    return LocalDestination(Path(text))


def _files(filesystem: pafs.FileSystem, path: str) -> list[str]:
    selector = pafs.FileSelector(path, recursive=True, allow_not_found=True)
    return [i.path for i in filesystem.get_file_info(selector) if i.type == pafs.FileType.File]


def _names(filesystem: pafs.FileSystem, folder: str) -> list[str]:
    """The part files of a table's folder, by name (listed recursively: an object
    store may list no "directory" otherwise)."""
    selector = pafs.FileSelector(folder, recursive=True, allow_not_found=True)
    infos = filesystem.get_file_info(selector)
    return sorted(
        i.base_name
        for i in infos
        if i.is_file and i.base_name.endswith(".parquet") and i.path == f"{folder}/{i.base_name}"
    )


def _stagings(filesystem: pafs.FileSystem, parent: str | Path, name: str) -> list[str]:
    """The staging folders beside a local DEST that hold a checkpoint."""
    prefix = PARTIAL.format(name=name)
    infos = filesystem.get_file_info(pafs.FileSelector(str(parent), allow_not_found=True))
    found = [i.path for i in infos if i.base_name.startswith(prefix)]
    return [path for path in found if filesystem.get_file_info(f"{path}/{PROGRESS_RECORD}").is_file]


def _newest(filesystem: pafs.FileSystem, roots: list[str]) -> str | None:
    """The staging place whose checkpoint was written last."""
    stamped = [(filesystem.get_file_info(f"{root}/{PROGRESS_RECORD}").mtime_ns or 0, root)
               for root in roots]  # fmt: skip
    return max(stamped)[1] if stamped else None
