"""vr.open of an export folder reads its tables where they are."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import vision_results as vr
from vision_results.synth import write_sample


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    write_sample(folder / "src", images=20, seed=3, documents=1, pdf_pages=2)
    vr.export(folder / "src", folder / "tables")
    return folder / "tables"


def test_an_export_folder_opens_as_it_is(exported: Path) -> None:
    before = sorted(os.listdir(exported))
    res = vr.open(exported, progress=False)
    assert res.path == exported  # read in place: no cache copy
    assert res.check() == vr.ExportReport.from_json((exported / "_export.json").read_bytes())
    assert len(res.images) == pq.read_table(exported / "images").num_rows > 0
    labels = pq.read_table(exported / "labels")
    assert res.labels["description"].tolist() == labels["description"].to_pylist()
    assert "complete  every shard listed was read" in str(res.check())
    assert res.summary().responses == res.check().images
    del res
    assert sorted(os.listdir(exported)) == before  # nothing removed with the object


def test_tables_choose_among_the_exported_ones(exported: Path) -> None:
    res = vr.open(exported, tables=["labels"], progress=False)
    assert res.tables == ["labels"]
    with pytest.raises(vr.UsageError, match="has no table 'nope'"):
        vr.open(exported, tables=["nope"], progress=False)
    with pytest.raises(vr.UsageError, match="exported with keep_all=False"):
        vr.open(exported, keep_all=True, progress=False)
