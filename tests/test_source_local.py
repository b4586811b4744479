"""A local folder as a source: shards read through one buffer are their exact bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

import vision_results as vr
from vision_results.source import LocalSource


def test_read_into_gives_each_shard_exactly_through_one_buffer(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b'{"responses": [{}]}')
    (tmp_path / "b.json").write_bytes(b"{}")
    source = LocalSource(tmp_path)
    shards = source.list().shards
    buffer = bytearray(max(shard.size for shard in shards) + 1)
    assert [bytes(source.read_into(shard, buffer)) for shard in shards] == [
        source.read(shard) for shard in shards
    ]


def test_read_into_reads_a_shard_whole_that_grew_since_the_listing(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"{}")
    source = LocalSource(tmp_path)
    (shard,) = source.list().shards
    path.write_bytes(b'{"responses": []}')
    assert bytes(source.read_into(shard, bytearray(shard.size + 1))) == b'{"responses": []}'


def test_read_into_of_a_vanished_shard_is_a_source_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"{}")
    source = LocalSource(tmp_path)
    (shard,) = source.list().shards
    path.unlink()
    with pytest.raises(vr.SourceError, match=r"a\.json: cannot read \(No such file"):
        source.read_into(shard, bytearray(8))
