"""``export``: SOURCE -> ``DEST/<table>/part-*.parquet`` plus ``DEST/_export.json``.

The command line and the notebook API both end up here. This module runs the
local engine; ``engine="dask"`` is handed to :mod:`vision_results.distributed`.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Literal

from vision_results.errors import DestinationError, VisionResultsError
from vision_results.jobs.layout import annotate
from vision_results.jobs.manifest import JobManifest
from vision_results.progress import tqdm
from vision_results.report import ExportReport, Skipped
from vision_results.source import EXPORT_RECORD, Listing, Source, open_source
from vision_results.stream import DEFAULT_WORKERS, auto_processes, stream_shards
from vision_results.tables import SCHEMAS, TABLE_NAMES
from vision_results.writer import StagedDestination, TableWriter, keep_within_budget

OnError = Literal["raise", "skip"]
Engine = Literal["local", "dask"]


def check_tables(tables: Iterable[str] | None) -> list[str]:
    """The asked-for table names in reference order; all when None."""
    if tables is None:
        return list(TABLE_NAMES)
    wanted = set(tables)
    unknown = wanted - set(TABLE_NAMES)
    if unknown:
        raise VisionResultsError(
            f"unknown table(s): {', '.join(sorted(unknown))}. Known: {', '.join(TABLE_NAMES)}."
        )
    return [name for name in TABLE_NAMES if name in wanted]


def list_shards(reader: Source) -> Listing:
    """List the SOURCE once; with a job manifest, tell each shard its inputs."""
    listing = reader.list()
    if listing.manifest is not None:
        manifest = JobManifest.from_json(reader.read(listing.manifest), listing.manifest.location)
        listing.shards = annotate(manifest, listing.shards)
    return listing


def start_report(listing: Listing, names: list[str]) -> ExportReport:
    """The report before any shard is read: the source and what its listing ignored."""
    return ExportReport(
        source=listing.source,
        tables=names,
        ignored_objects=[Skipped(name, reason) for name, reason in listing.ignored],
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: the parser's allocations would trigger collections that
    rescan every live object, several times slower (performance-notes.md).
    The JSON trees have no cycles, so reference counting frees them anyway."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def export(
    source: str | os.PathLike[str] | Source,
    dest: str | os.PathLike[str],
    *,
    tables: Iterable[str] | None = None,
    on_error: OnError = "raise",
    workers: int = DEFAULT_WORKERS,
    processes: int | None = None,
    overwrite: bool = False,
    client: Any = None,
    progress: bool | None = None,
    engine: Engine = "local",
    scheduler: Any = None,
) -> ExportReport:
    """Export every Vision response under SOURCE to Parquet tables in DEST.

    ``on_error="raise"`` stops at the first bad shard with a :class:`ShardError`
    and leaves nothing under DEST; ``"skip"`` goes on and lists the shard and
    the reason in the report. ``workers`` shards are downloaded at once;
    ``processes`` parse them (0: parse in the download threads; None: one per
    core when the source holds 64 MB or more, unless this runs in a script run
    by path, which would run again in each process: there, guard the script
    with ``if __name__ == "__main__":`` and pass ``processes``).
    ``progress=None`` shows a bar on a terminal only.
    SOURCE may also be a ready :class:`~vision_results.source.Source`, e.g.
    ``GcsSource(url, client, retry=...)`` to choose how downloads are retried.

    ``engine="dask"`` runs the export on the Dask cluster ``scheduler`` (an
    address or a ``distributed.Client``); DEST may then be ``gs://BUCKET/PREFIX``.
    ``workers`` and ``processes`` are for the local engine. See
    :mod:`vision_results.distributed`.
    """
    if on_error not in ("raise", "skip"):
        raise VisionResultsError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    names = check_tables(tables)
    if engine == "dask":
        from vision_results.distributed import export_dask

        return export_dask(
            source, dest, scheduler=scheduler, tables=names, on_error=on_error,
            overwrite=overwrite, client=client, progress=progress,
        )  # fmt: skip
    if engine != "local":
        raise VisionResultsError(f"engine must be 'local' or 'dask', not {engine!r}")
    if scheduler is not None:
        raise VisionResultsError("scheduler is for engine='dask'; pass engine='dask' too.")
    if os.fspath(dest).startswith("gs://"):
        raise DestinationError(
            f"{os.fspath(dest)}: the local engine writes a local folder. Use the Dask engine "
            "(--engine dask, engine='dask') for a gs:// DEST, or copy the folder afterwards."
        )
    started = time.perf_counter()
    reader = open_source(source, client=client)
    listing = list_shards(reader)
    report = start_report(listing, names)
    with StagedDestination(Path(dest), overwrite=overwrite) as staging:
        writers = {name: TableWriter(staging / name, SCHEMAS[name]) for name in names}
        bar = tqdm(
            total=len(listing.shards),
            unit="shard",
            desc="export",
            dynamic_ncols=True,
            disable=None if progress is None else not progress,
        )
        if processes is None:
            processes = auto_processes(listing.shards)
        results = stream_shards(reader, listing.shards, names, workers=workers, processes=processes)
        with bar, closing(results), gc_paused():
            for result in results:
                if result.error is not None and on_error == "raise":
                    raise result.error
                for name, table in result.tables.items():
                    writers[name].write(table)
                keep_within_budget(writers.values())
                report.add(result)
                bar.update()
                bar.set_postfix(images=report.images, MB=f"{report.bytes_read / 1e6:.0f}")
        report.rows = {name: writer.close() for name, writer in writers.items()}
        report.seconds = time.perf_counter() - started
        (staging / EXPORT_RECORD).write_bytes(report.to_json())
    return report
