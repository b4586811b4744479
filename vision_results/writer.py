"""Writing tables: buffered Parquet parts, and rewriting parts without some rows.

A writer writes one table's part files into a folder of a ``pyarrow.fs``
filesystem (the staging place of :mod:`vision_results.destination`, local or on
GCS); nothing here knows where the export ends up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

ROWS_PER_GROUP = 128_000
BYTES_PER_GROUP = 8 << 20
ROWS_PER_FILE = 16_000_000
PIECES_PER_COMPACTION = 64
BUFFER_BUDGET = 32 << 20  # all tables' buffers together


class TableWriter:
    """One table's ``<stem>-NNNNN.parquet`` files (zstd) in one folder: a local path,
    or a path of ``filesystem`` (a ``pyarrow.fs`` filesystem, e.g. GCS).

    Small per-shard tables are buffered into row groups of up to
    ``rows_per_group`` rows (or ``BYTES_PER_GROUP`` bytes); a new part file is
    started every ``rows_per_file`` rows.
    """

    def __init__(
        self,
        folder: Path | str,
        schema: pa.Schema,
        *,
        rows_per_group: int = ROWS_PER_GROUP,
        rows_per_file: int = ROWS_PER_FILE,
        filesystem: pafs.FileSystem | None = None,
        stem: str = "part",
        first_part: int = 0,
    ) -> None:
        self.folder = folder
        self.schema = schema
        self.filesystem = filesystem
        self.stem = stem
        self.rows_per_group = rows_per_group
        self.rows_per_file = rows_per_file
        self.rows = 0
        self._buffer: list[pa.Table] = []
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self._writer: pq.ParquetWriter | None = None
        self._file_rows = 0
        self._parts = first_part

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self._buffer.append(table)
        self._buffered_rows += table.num_rows
        # Not nbytes: it looks for buffers shared between columns, 15x slower.
        self._buffered_bytes += table.get_total_buffer_size()
        self.rows += table.num_rows
        if self._buffered_rows >= self.rows_per_group or self._buffered_bytes >= BYTES_PER_GROUP:
            self.flush()
        elif len(self._buffer) >= PIECES_PER_COMPACTION:
            # A sparse table (errors, product_objects, ...) fills a row group over
            # thousands of shards; each piece costs far more than its nbytes (its
            # buffers are separate allocations, or bytes objects from a parser
            # process), so keep one contiguous copy instead of thousands of pieces.
            self._buffer = [pa.concat_tables(self._buffer).combine_chunks()]

    @property
    def buffered_bytes(self) -> int:
        return self._buffered_bytes

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None or self._file_rows >= self.rows_per_file:
            if self._writer is not None:
                self._writer.close()
            name = f"{self.stem}-{self._parts:05d}.parquet"
            where: Path | str
            if self.filesystem is None or isinstance(self.filesystem, pafs.LocalFileSystem):
                where = Path(self.folder) / name
                where.parent.mkdir(parents=True, exist_ok=True)
                where = str(where) if self.filesystem is not None else where
            else:
                # An object store has no folders to make.
                where = f"{self.folder}/{name}"
            self._writer = pq.ParquetWriter(
                where, self.schema, compression="zstd", filesystem=self.filesystem
            )
            self._parts += 1
            self._file_rows = 0
        return self._writer

    def flush(self) -> None:
        """Write what is buffered as a row group."""
        if not self._buffer:
            return
        table = pa.concat_tables(self._buffer)
        self._buffer, self._buffered_rows, self._buffered_bytes = [], 0, 0
        self._open().write_table(table, row_group_size=self.rows_per_group)
        self._file_rows += table.num_rows

    def checkpoint(self) -> list[str]:
        """Write what is buffered and close the part file, so that every file written
        so far is complete; return their names."""
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return [f"{self.stem}-{n:05d}.parquet" for n in range(self._parts)]

    def close(self) -> int:
        """Write what is buffered (a table with no part yet gets an empty one); return
        the rows written by this writer."""
        self.flush()
        if self._writer is not None or self._parts == 0:
            self._open().close()
            self._writer = None
        return self.rows


def _parts(folder: Path | str, filesystem: pafs.FileSystem) -> list[str]:
    selector = pafs.FileSelector(str(folder), allow_not_found=True)
    infos = filesystem.get_file_info(selector)
    return sorted(i.path for i in infos if i.is_file and i.path.endswith(".parquet"))


def rewrite_without(
    folder: Path | str,
    columns: list[str],
    drop: Callable[[pa.Table], pa.ChunkedArray],
    filesystem: pafs.FileSystem | None = None,
) -> int:
    """Rewrite the part files of ``folder`` (a path of ``filesystem``, local by
    default) that hold rows ``drop`` selects (a boolean mask computed from
    ``columns``), a row group at a time; return the rows removed.

    Each file is written beside itself and moved over it: on a local disk a kill
    leaves it before or after.
    """
    filesystem = filesystem or pafs.LocalFileSystem()
    removed = 0
    for path in _parts(folder, filesystem):
        keys = pq.read_table(path, columns=columns, filesystem=filesystem)
        count = pc.sum(drop(keys)).as_py() or 0
        if not count:
            continue
        temporary = f"{path}.tmp"
        with filesystem.open_input_file(path) as source:
            parts = pq.ParquetFile(source)
            with pq.ParquetWriter(
                temporary, parts.schema_arrow, compression="zstd", filesystem=filesystem
            ) as out:
                for group in range(parts.num_row_groups):
                    table = parts.read_row_group(group)
                    out.write_table(table.filter(pc.invert(drop(table.select(columns)))))
        filesystem.move(temporary, path)
        removed += count
    return removed


def rows_in(folder: Path | str, filesystem: pafs.FileSystem | None = None) -> int:
    """Rows of every part file in ``folder``, from their footers."""
    filesystem = filesystem or pafs.LocalFileSystem()
    return sum(
        pq.read_metadata(path, filesystem=filesystem).num_rows
        for path in _parts(folder, filesystem)
    )


def keep_within_budget(writers: Iterable[TableWriter], budget: int = BUFFER_BUDGET) -> None:
    """Flush the fullest buffers until all of them together hold at most ``budget``
    bytes, so memory does not grow with the number of tables either."""
    ordered = sorted(writers, key=lambda w: w.buffered_bytes, reverse=True)
    total = sum(w.buffered_bytes for w in ordered)
    for writer in ordered:
        if total <= budget:
            return
        total -= writer.buffered_bytes
        writer.flush()
