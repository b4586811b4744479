"""The notebook API: ``res = vr.open(SOURCE)``, then ``res.labels``, ``res.ocr_words``, ...

:func:`open` reads every shard once, up front and with a progress bar, into a
local Parquet cache (the same files ``export`` writes). Table attributes then
only read that cache: no network call hides behind an attribute, and reading
a second table does not download or parse anything again. An export (a folder
or ``gs://`` prefix with ``_export.json``) is opened as it is: its tables are
read in place (for ``gs://``, a table attribute reads it from Cloud Storage).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from vision_results.destination import open_destination
from vision_results.errors import UsageError
from vision_results.export import Engine, OnError, export
from vision_results.options import unknown_table
from vision_results.report import CachedReport, ExportReport
from vision_results.source import EXPORT_RECORD, Source, is_export_record
from vision_results.storage import gcs_filesystem, read_if_exists
from vision_results.stream import DEFAULT_WORKERS
from vision_results.summary import Summary, summarize
from vision_results.tables import TABLE_NAMES

if TYPE_CHECKING:
    from PIL import Image


class _Table:
    """A table as an attribute: ``res.labels`` is ``res.table("labels")``."""

    def __init__(self, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, results: None, owner: type) -> _Table: ...

    @overload
    def __get__(self, results: Results, owner: type) -> pd.DataFrame: ...

    def __get__(self, results: Results | None, owner: type) -> pd.DataFrame | _Table:
        return self if results is None else results.table(self.name)


class Results:
    """Tables of one SOURCE, cached as Parquet under :attr:`path`, or of an export,
    read where it is (:attr:`filesystem`: None for a local folder)."""

    def __init__(
        self,
        path: Path | str,
        report: ExportReport,
        *,
        on_error: OnError = "raise",
        filesystem: pafs.FileSystem | None = None,
    ) -> None:
        self.path = path
        self.report = report
        self.on_error = on_error
        self.filesystem = filesystem

    def __repr__(self) -> str:
        return f"<vision_results.Results of {self.report.source}>\n{self.report.summary()}"

    @property
    def tables(self) -> list[str]:
        return list(self.report.tables)

    def summary(self, top: int = 10) -> Summary:
        """A compact overview: responses, errors by code, rows per table, the ``top``
        labels; an HTML table in a notebook, text with ``print``."""
        labels = None
        if "labels" in self.report.tables:
            labels = self.dataset("labels").to_table(columns=["description", "uri"])
        return summarize(self.report, labels, top)

    def check(self) -> ExportReport:
        """The accounting of what was read: responses, rows per table, errors by code,
        shards skipped and why and, for a job, its images without an answer;
        ``print(res.check())`` shows it, ``res.check().complete`` sums it up."""
        return self.report

    def dataset(self, name: str) -> ds.Dataset:
        """The table as a ``pyarrow.dataset`` (for filters and column selection)."""
        if name not in self.report.tables:
            if name not in TABLE_NAMES:
                raise UsageError(f"{unknown_table(name)} Read: {', '.join(self.report.tables)}.")
            raise UsageError(
                f"table {name!r} was not read; open the source with tables=[..., {name!r}]. "
                f"Read: {', '.join(self.report.tables)}."
            )
        if self.filesystem is None:
            return ds.dataset(Path(self.path) / name, format="parquet")
        return ds.dataset(f"{self.path}/{name}", format="parquet", filesystem=self.filesystem)

    def table(self, name: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """One table as a DataFrame with pyarrow-backed dtypes."""
        arrow = self.dataset(name).to_table(columns=None if columns is None else list(columns))
        frame: pd.DataFrame = arrow.to_pandas(types_mapper=pd.ArrowDtype)
        return frame

    def show(self, uri: str, **options: Any) -> Image.Image:
        """The picture of `uri` with its boxes, which a notebook displays inline; the
        options are those of :func:`vision_results.draw.draw` (``image=``, ``images=``,
        ``kinds=``, ...). Needs ``pip install 'vision-results[notebook]'``."""
        from vision_results.draw import draw

        return draw(self, uri, **options)

    def to_parquet(
        self,
        dest: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        engine: Engine = "local",
        scheduler: Any = None,
    ) -> Path | str:
        """Write the tables as ``export`` does: ``DEST/<table>/part-*.parquet`` and
        ``DEST/_export.json`` (copied from the cache, not read again).

        With ``engine="dask"`` the cluster at ``scheduler`` reads the SOURCE again
        (its workers cannot see this cache) and writes DEST, which may then be
        ``gs://BUCKET/PREFIX``; the same tables and ``on_error`` as :func:`open`.
        """
        if engine == "dask" or scheduler is not None:
            export(
                self.report.source,
                dest,
                tables=self.report.tables,
                on_error=self.on_error,
                overwrite=overwrite,
                engine=engine,
                scheduler=scheduler,
            )
            return os.fspath(dest)
        staging = open_destination(dest).stage(overwrite=overwrite, resume=False)
        try:
            source = self.filesystem or pafs.LocalFileSystem()
            files = source.get_file_info(pafs.FileSelector(str(self.path), recursive=True))
            for folder in {f.path.rpartition("/")[0] for f in files if f.is_file}:
                relative = folder.removeprefix(str(self.path)).strip("/")
                staging.destination.prepare(staging.path(*filter(None, [relative])))
            pafs.copy_files(
                str(self.path),
                staging.root,
                source_filesystem=self.filesystem,
                destination_filesystem=staging.filesystem,
            )
            staging.commit()
        except BaseException:
            staging.abort()
            raise
        return Path(dest) if not os.fspath(dest).startswith("gs://") else os.fspath(dest)

    if TYPE_CHECKING:
        # For type checkers: the tables, set below from TABLE_NAMES, are DataFrames.
        def __getattr__(self, name: str) -> pd.DataFrame: ...


def _add_tables(results: type[Results]) -> None:
    """One attribute per table: ``res.labels``, ``res.ocr_words``, ..."""
    for name in TABLE_NAMES:
        if hasattr(results, name):
            raise TypeError(f"the table {name!r} would hide Results.{name}: rename the table")
        setattr(results, name, _Table(name))


_add_tables(Results)


def open(
    source: str | os.PathLike[str] | Source,
    *,
    tables: Iterable[str] | None = None,
    on_error: OnError = "raise",
    workers: int = DEFAULT_WORKERS,
    processes: int = 0,
    keep_all: bool = False,
    client: Any = None,
    progress: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    include: Iterable[str] | None = None,
) -> Results:
    """Read SOURCE (``gs://bucket/prefix``, a folder or a file) into :class:`Results`.

    The options are those of :func:`~vision_results.export` (``keep_all``: every
    answer of an image answered twice, not the latest). The cache lives in
    a temporary folder (under ``cache_dir`` if given) and is removed when the
    Results object is garbage collected.

    An export (``DEST`` of an export, a folder or a ``gs://`` prefix, with its
    ``_export.json``) is opened as it is: nothing is parsed or copied, ``res.check()``
    is its record, and ``tables`` may choose among its tables.
    """
    found = _export_at(source, client)
    if found is not None:
        return _open_export(*found, tables, keep_all)
    root = Path(tempfile.mkdtemp(prefix="vision-results-", dir=cache_dir))
    path = root / "tables"
    try:
        report = export(
            source,
            path,
            tables=tables,
            on_error=on_error,
            workers=workers,
            processes=processes,
            keep_all=keep_all,
            client=client,
            progress=progress,
            include=None if include is None else list(include),
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    results = Results(path, CachedReport.of(report), on_error=on_error)
    weakref.finalize(results, shutil.rmtree, root, True)
    return results


def _export_at(
    source: str | os.PathLike[str] | Source, client: Any
) -> tuple[Path | str, pafs.FileSystem | None, ExportReport] | None:
    """Where an export's tables are, their filesystem and its record, if SOURCE is an
    export (for ``gs://``, one read of its ``_export.json``); else None."""
    if not isinstance(source, str | os.PathLike):
        return None
    text = os.fspath(source)
    if text.startswith("gs://"):
        where = text.removeprefix("gs://").strip("/")
        if "/" not in where:
            return None  # a whole bucket is never an export
        data = read_if_exists(f"gs://{where}/{EXPORT_RECORD}", client)
        if data is None or not is_export_record(data):
            return None
        # The tables are read by pyarrow, from the same settings as a storage client.
        return where, gcs_filesystem(), ExportReport.from_json(data)
    record = Path(source) / EXPORT_RECORD
    if record.is_file() and is_export_record(local := record.read_bytes()):
        return record.parent, None, ExportReport.from_json(local)
    return None


def _open_export(
    folder: Path | str,
    filesystem: pafs.FileSystem | None,
    report: ExportReport,
    tables: Iterable[str] | None,
    keep_all: bool,
) -> Results:
    """An export as Results, its tables read in place."""
    if keep_all != report.keep_all:
        raise UsageError(
            f"{folder} was exported with keep_all={report.keep_all}; open it without keep_all, "
            "or export its SOURCE again with the other setting."
        )
    if tables is not None:
        wanted = list(tables)
        missing = [name for name in wanted if name not in report.tables]
        if missing:
            raise UsageError(
                f"{folder} has no table {missing[0]!r}; it holds {', '.join(report.tables)}."
            )
        report.tables = [name for name in report.tables if name in wanted]
    return Results(folder, report, filesystem=filesystem)
