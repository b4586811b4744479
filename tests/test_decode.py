"""The fast decoder and the exact one give the same tables, value for value.

Every shared real sample, generated data with every kind (the service's form and
the client's defaults-present form) and every serialisation of
tests/serialisations.py goes through both decoders; every one of the 23 tables
must be equal. The fast path must also really be taken where it can be.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pytest

import vision_results as vr
from tests.serialisations import FORMS, mixed, write
from vision_results.decode import _gather, decode_shard
from vision_results.messages import RESPONSE
from vision_results.parse import parse_shard
from vision_results.synth import write_sample
from vision_results.tables import fields_for, flatten_shard

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vision-api-samples"
FRAGMENT = "googleapis__google-cloud-php__face-landmarks.json"
REAL = sorted(p for p in SAMPLES.glob("*.json") if p.name != FRAGMENT) if SAMPLES.is_dir() else []
ALL = frozenset(RESPONSE)


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes]]:
    root = tmp_path_factory.mktemp("decode")
    service = write_sample(root / "service", images=60, seed=7)
    defaults = write_sample(root / "defaults", images=60, seed=7, defaults=True)
    found = [(f"samples/{p.name}", p.read_bytes()) for p in REAL]
    found += [(p.relative_to(root).as_posix(), p.read_bytes()) for p in [*service, *defaults]]
    for name, data in list(found):
        if not name.startswith("defaults/"):
            found += [(f"{form}:{name}", write(form, data)) for form in FORMS]
            found.append((f"mixed:{name}", mixed(data)))
    return found


def tables(data: bytes, name: str, *, fast: bool, wanted: tuple[str, ...]) -> dict[str, pa.Table]:
    decoded = decode_shard(data, name, name, fields=fields_for(frozenset(wanted)), fast=fast)
    return flatten_shard(decoded.batch, wanted)


def test_both_decoders_give_every_table_alike(shards: list[tuple[str, bytes]]) -> None:
    unequal = []
    for name, data in shards:
        fast = tables(data, name, fast=True, wanted=vr.TABLE_NAMES)
        exact = tables(data, name, fast=False, wanted=vr.TABLE_NAMES)
        unequal += [f"{name}:{t}" for t in vr.TABLE_NAMES if not fast[t].equals(exact[t])]
    assert unequal == []


@pytest.mark.parametrize("table", ["labels", "ocr_words", "objects", "images"])
def test_a_table_alone_is_that_table_of_all(shards: list[tuple[str, bytes]], table: str) -> None:
    for name, data in shards[:: max(1, len(shards) // 40)]:
        alone = tables(data, name, fast=True, wanted=(table,))[table]
        assert alone.equals(tables(data, name, fast=True, wanted=vr.TABLE_NAMES)[table]), name


def test_each_table_alone_is_alike_on_both_decoders(shards: list[tuple[str, bytes]]) -> None:
    """Alone, most tables are read from their fields' text gathered by the first
    pass, not from the whole shard: still every value as the exact decoder's."""
    unequal = []
    for name, data in shards[:: max(1, len(shards) // 12)]:
        for table in vr.TABLE_NAMES:
            fast = tables(data, name, fast=True, wanted=(table,))[table]
            exact = tables(data, name, fast=False, wanted=(table,))[table]
            unequal += [] if fast.equals(exact) else [f"{name}:{table}"]
    assert unequal == []


def test_a_few_tables_are_read_from_their_fields_text_alone(
    shards: list[tuple[str, bytes]],
) -> None:
    name, data = next((name, data) for name, data in shards if name.startswith("service/"))
    read = frozenset({"labelAnnotations", "error"})
    scan = parse_shard(data, name, name, fields=frozenset(), unread=read)
    gathered = _gather(scan.unread, len(data))
    assert gathered is not None and len(gathered) < len(data) // 10
    document = orjson.loads(gathered)["responses"]
    assert [set(response) <= read for response in document] == [True] * len(scan)
    labels = [response.get("labelAnnotations") for response in orjson.loads(data)["responses"]]
    assert [response.get("labelAnnotations") for response in document] == labels
    everything = parse_shard(data, name, name, fields=frozenset(), unread=frozenset(RESPONSE))
    assert _gather(everything.unread, len(data)) is None  # the shard itself is read


def test_a_shard_decoded_from_a_buffer_keeps_its_values_when_the_buffer_is_reused(
    shards: list[tuple[str, bytes]],
) -> None:
    """Local shards are read through one buffer: nothing decoded may still point
    into it when the next shard overwrites it."""
    (first, data), (_, other) = [item for item in shards if item[0].startswith("service/")][:2]
    buffer = bytearray(max(len(data), len(other)) + 1)
    buffer[: len(data)] = data
    decoded = decode_shard(memoryview(buffer)[: len(data)], first, first, fields=ALL)
    buffer[:] = other.ljust(len(buffer))
    expected = tables(data, first, fast=True, wanted=vr.TABLE_NAMES)
    got = flatten_shard(decoded.batch, vr.TABLE_NAMES)
    assert decoded.fast and [t for t in vr.TABLE_NAMES if not got[t].equals(expected[t])] == []


def test_the_fast_path_takes_the_service_form_and_leaves_the_rest(
    shards: list[tuple[str, bytes]],
) -> None:
    taken = {name: decode_shard(data, name, name, fields=ALL).fast for name, data in shards}
    fast = ("service/", "defaults/", "MessageToJson:service/", "to_json:service/")
    assert all(taken[name] for name in taken if name.startswith(fast))
    assert not any(taken[name] for name in taken if name.startswith("to_dict:"))


@pytest.mark.skipif(not REAL, reason=f"real samples not found at {SAMPLES}")
def test_a_bare_real_response_is_read_exactly_and_a_client_batch_fast() -> None:
    def fast(name: str) -> bool:
        return decode_shard((SAMPLES / name).read_bytes(), name, name, fields=ALL).fast

    assert not fast("dinosauria123__gcv2hocr__1.jpg.json")  # a bare response
    assert fast("staftermath__pysuite__expected_batch_annotation.json")  # a client's to_json


def test_the_export_counts_the_shards_the_exact_decoder_read(tmp_path: Path) -> None:
    (first, *_) = write_sample(tmp_path / "src" / "a", images=40, seed=3, documents=0)
    (tmp_path / "src" / "b").mkdir()
    (tmp_path / "src" / "b" / "saved.json").write_bytes(write("to_dict", first.read_bytes()))
    report = vr.export(tmp_path / "src", tmp_path / "out")
    assert (len(report.shards), report.fallback_shards) == (3, 1)
    assert [s.name for s in report.shards if s.fallback] == ["b/saved.json"]
    assert "decoded  1 of 3 shards by the exact decoder" in report.summary()
