"""TableWriter and the buffer budget: memory bounded however many shards arrive."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vision_results.writer import PIECES_PER_COMPACTION, TableWriter, keep_within_budget

SCHEMA = pa.schema([pa.field("n", pa.int64()), pa.field("s", pa.string())])


def piece(start: int, rows: int = 3) -> pa.Table:
    return pa.table({"n": range(start, start + rows), "s": ["x" * 10] * rows}, schema=SCHEMA)


def test_sparse_table_keeps_one_compacted_piece_not_thousands(tmp_path: Path) -> None:
    writer = TableWriter(tmp_path / "t", SCHEMA)
    for shard in range(1000):
        writer.write(piece(3 * shard))
        assert len(writer._buffer) < PIECES_PER_COMPACTION
    assert writer.close() == 3000
    table = pq.read_table(tmp_path / "t")
    assert table.column("n").to_pylist() == list(range(3000))
    assert pq.ParquetFile(tmp_path / "t" / "part-00000.parquet").num_row_groups == 1


def test_budget_flushes_the_fullest_buffers_first(tmp_path: Path) -> None:
    big, small = TableWriter(tmp_path / "big", SCHEMA), TableWriter(tmp_path / "small", SCHEMA)
    big.write(piece(0, 5000))
    small.write(piece(0, 10))
    before = (big.buffered_bytes, small.buffered_bytes)
    keep_within_budget([small, big], budget=sum(before))
    assert (big.buffered_bytes, small.buffered_bytes) == before  # within budget: no flush
    keep_within_budget([small, big], budget=small.buffered_bytes)
    assert big.buffered_bytes == 0 and small.buffered_bytes == before[1]
    big.close()
    assert pq.read_table(tmp_path / "big").num_rows == 5000


def test_rows_roll_over_into_new_part_files(tmp_path: Path) -> None:
    writer = TableWriter(tmp_path / "t", SCHEMA, rows_per_group=10, rows_per_file=20)
    for start in range(0, 50, 5):
        writer.write(piece(start, 5))
    writer.close()
    parts = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert pq.read_table(tmp_path / "t").column("n").to_pylist() == list(range(50))


def test_empty_table_still_gets_its_schema(tmp_path: Path) -> None:
    assert TableWriter(tmp_path / "t", SCHEMA).close() == 0
    assert pq.read_schema(tmp_path / "t" / "part-00000.parquet").equals(SCHEMA)
