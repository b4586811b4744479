"""``export``: SOURCE -> ``DEST/<table>/part-*.parquet`` plus ``DEST/_export.json``.

The command line and the notebook API both end up here. The options are checked
once (:class:`~vision_results.options.ExportOptions`), the export is planned and
finished by :mod:`vision_results.pipeline`, and an engine reads the shards and
writes the parts in between: the local engine below, or on a Dask cluster
:mod:`vision_results.distributed` (imported only then).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import closing
from typing import Any

from vision_results.errors import UsageError
from vision_results.options import CHECKPOINT_BYTES, Engine, ExportOptions, OnError
from vision_results.pipeline import Plan, check_apart, finish, planned
from vision_results.progress import tqdm
from vision_results.report import ExportReport
from vision_results.source import Source
from vision_results.stream import DEFAULT_WORKERS, MAX_SHARD_BYTES, parsing, stream_chunks
from vision_results.writer import TableWriter, keep_within_budget

__all__ = ["CHECKPOINT_BYTES", "Engine", "OnError", "export"]


def export(
    source: str | os.PathLike[str] | Source,
    dest: str | os.PathLike[str],
    *,
    tables: Iterable[str] | None = None,
    on_error: OnError = "raise",
    workers: int = DEFAULT_WORKERS,
    processes: int = 0,
    overwrite: bool = False,
    resume: bool = False,
    keep_all: bool = False,
    client: Any = None,
    progress: bool | None = None,
    engine: Engine = "local",
    scheduler: Any = None,
    checkpoint_bytes: int = CHECKPOINT_BYTES,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    retry_deadline: float | None = None,
    include: Sequence[str] | None = None,
) -> ExportReport:
    """Export every Vision response under SOURCE to Parquet tables in DEST.

    SOURCE is ``gs://BUCKET/PREFIX``, a local folder or file, or a ready
    :class:`~vision_results.source.Source` (e.g. ``GcsSource(url, client, retry=...)``
    to choose how downloads are retried); DEST is a local folder or
    ``gs://BUCKET/PREFIX``, written atomically (nothing appears under a final name
    before the end; ``_export.json`` last).

    ``on_error="raise"`` stops at the first bad shard with a :class:`ShardError`
    and leaves nothing under DEST; ``"skip"`` goes on and lists the shard and
    the reason in the report. ``workers`` shards are read at once from ``gs://``;
    they are decoded in one thread per core (pyarrow decodes outside the GIL),
    or with ``processes`` > 0 in that many processes (a script run by path must
    then be guarded by ``if __name__ == "__main__":``, since each process imports
    it again). ``progress=None`` shows a bar on a terminal only.

    ``resume=True`` continues a killed or stopped export to DEST, or brings a
    finished one up to date with SOURCE, reading only new and changed shards
    (:mod:`vision_results.resume`); progress is recorded every
    ``checkpoint_bytes`` of shards read. One answer per image is kept unless
    ``keep_all`` (:mod:`vision_results.dedupe`), found in the export's index of
    answers, ``DEST/_answers`` (:mod:`vision_results.answers`), which every
    export writes beside the tables asked for. Shards larger than
    ``max_shard_bytes`` are refused unread. Each listing page and download of a
    ``gs://`` SOURCE is retried (503, 429, 500, resets, timeouts) for up to
    ``retry_deadline`` seconds (None: 120 s, but a refused connection while listing
    fails at once). ``include``: globs of the shards to read, matched against their
    path under SOURCE or their file name (default: every ``*.json`` of a local
    folder, ``output-N-to-M.json`` under a ``gs://`` prefix); other JSON files that
    hold Vision responses are named in the report, which is then incomplete.

    ``engine="dask"`` runs the export on the Dask cluster ``scheduler`` (an
    address or a ``distributed.Client``), with the same options but
    ``processes`` (see :mod:`vision_results.distributed`).
    """
    options = ExportOptions.of(
        tables, on_error=on_error, workers=workers, processes=processes, overwrite=overwrite,
        resume=resume, keep_all=keep_all, progress=progress, engine=engine,
        checkpoint_bytes=checkpoint_bytes, max_shard_bytes=max_shard_bytes,
        retry_deadline=retry_deadline, include=include,
    )  # fmt: skip
    check_apart(source, dest)  # before anything is read, listed or connected to
    if options.engine == "dask":
        from vision_results.distributed import export_dask

        return export_dask(source, dest, options, scheduler=scheduler, client=client)
    if scheduler is not None:
        raise UsageError("scheduler is for engine='dask'; pass engine='dask' too.")
    with planned(source, dest, options, client) as plan, parsing():
        _run(plan)
        return finish(plan)


def _run(plan: Plan) -> None:
    """The local engine: read, decode and flatten on this machine, write each
    table's parts in shard order, checkpoint every ``checkpoint_bytes``."""
    options, report = plan.options, plan.report
    writers = {
        name: plan.writer(name, first_part=len(plan.progress.parts.get(name, ())))
        for name in plan.written
    }
    chunks = stream_chunks(
        plan.reader, plan.todo, options.tables, workers=options.workers,
        processes=options.processes, max_shard_bytes=options.max_shard_bytes,
    )  # fmt: skip
    bar = tqdm(
        total=len(plan.todo),
        unit="shard",
        desc="export",
        dynamic_ncols=True,
        disable=None if options.progress is None else not options.progress,
    )
    unsaved = 0
    with bar, closing(chunks):
        for chunk in chunks:
            for name, table in chunk.tables.items():
                writers[name].write(table)
            keep_within_budget(writers.values())
            for result in chunk.results:  # a bad shard is a chunk of its own
                if result.error is not None and options.on_error == "raise":
                    if options.resume:
                        _checkpoint(plan, writers)
                    raise result.error
                report.add(result)
                unsaved += result.shard.size
            bar.update(len(chunk.results))
            bar.set_postfix(images=report.images, MB=f"{report.bytes_read / 1e6:.0f}")
            if unsaved >= options.checkpoint_bytes:
                _checkpoint(plan, writers)
                unsaved = 0
    for writer in writers.values():
        writer.close()
    _checkpoint(plan, writers)


def _checkpoint(plan: Plan, writers: dict[str, TableWriter]) -> None:
    """Close every part file and record them with the shards they hold."""
    plan.checkpoint({name: writer.checkpoint() for name, writer in writers.items()})
