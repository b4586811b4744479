"""The registry is derived from the table modules' declarations, and from nothing else.

Each module of ``vision_results.tables`` declares its tables, the response
fields it reads (as Arrow types) and its position; the table names, the fields
to decode, the response type and the ``Results`` attributes follow.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import vision_results as vr
import vision_results.results as results_module
from vision_results import tables
from vision_results.batch import Batch
from vision_results.canonical import to_arrow
from vision_results.messages import (
    ENTITIES,
    PAGE_SIZE,
    PAGE_SIZES,
    RESPONSE,
    STATUS,
    TEXT_ANNOTATION,
)
from vision_results.tables import REGISTRY, fields_for, response_type
from vision_results.tables._common import table_schema
from vision_results.tables._registry import Declaration, Registry, discover

from .tables_helpers import shard

REFERENCE_ORDER = (
    "images", "labels", "text_annotations",
    "ocr_pages", "ocr_blocks", "ocr_paragraphs", "ocr_lines", "ocr_words",
    "faces", "face_landmarks", "landmarks", "logos", "objects",
    "safe_search", "colors", "crop_hints",
    "web_entities", "web_images", "web_pages", "web_labels",
    "products", "product_objects", "errors",
)  # fmt: skip
"""The order the tests, the docs and the CLI's help list the tables in."""

COUNTS = table_schema(pa.field("n_labels", pa.int32(), nullable=False))


def count_labels(batch: Batch) -> dict[str, pa.Table]:
    """A table that no module declares: the number of labels of each response."""
    lengths = pc.fill_null(pc.list_value_length(batch.field("labelAnnotations")), 0)
    columns = {**batch.keys(np.arange(len(batch))), "n_labels": pc.cast(lengths, pa.int32())}
    return {"label_counts": pa.Table.from_pydict(columns, schema=COUNTS)}


LABEL_COUNTS = Declaration(
    tables={"label_counts": COUNTS},
    reads={"labelAnnotations": ENTITIES},
    flatten=count_labels,
    position=25,
)


def test_every_table_module_declares_itself() -> None:
    folder = Path(tables.__file__).parent
    modules = [f"{tables.__name__}.{p.stem}" for p in folder.glob("*.py") if p.stem[0] != "_"]
    assert sorted(REGISTRY.declarations) == sorted(modules)
    for name in modules:
        assert REGISTRY.declarations[name] is importlib.import_module(name).DECLARATION


def test_the_declarations_keep_the_reference_order() -> None:
    assert vr.TABLE_NAMES == REFERENCE_ORDER
    assert list(vr.SCHEMAS) == list(REFERENCE_ORDER)
    positions = [declaration.position for declaration in REGISTRY.declarations.values()]
    assert positions == sorted(set(positions))  # ordered by position, each unique


def test_each_table_reads_the_fields_its_declaration_names() -> None:
    for declaration in REGISTRY.declarations.values():
        for table, schema in declaration.tables.items():
            assert fields_for(frozenset({table})) == frozenset(declaration.reads), table
            assert vr.SCHEMAS[table] is schema


def test_declarations_reading_one_field_agree_on_its_type() -> None:
    for declaration in REGISTRY.declarations.values():
        for name, kind in declaration.reads.items():
            assert kind.equals(REGISTRY.reads[name], check_metadata=True), name


def test_all_tables_read_the_whole_response() -> None:
    every = response_type(fields_for(frozenset(vr.TABLE_NAMES)))
    assert every.equals(pa.struct(list(RESPONSE.items())), check_metadata=True)


def test_error_is_always_read_and_page_size_alone_stands_for_the_ocr() -> None:
    assert response_type(fields_for(frozenset({"labels"}))) == pa.struct(
        [("labelAnnotations", ENTITIES), ("error", STATUS)]
    )
    sized = response_type(fields_for(frozenset({"objects"})))
    assert sized.field("fullTextAnnotation").type == PAGE_SIZES
    both = response_type(fields_for(frozenset({"objects", "ocr_words"})))
    assert both.field("fullTextAnnotation").type == TEXT_ANNOTATION


def _within(part: pa.DataType, whole: pa.DataType) -> bool:
    """Whether ``part`` keeps some of the fields of ``whole``, each of the same type."""
    if pa.types.is_struct(part) and pa.types.is_struct(whole):
        names = [field.name for field in whole]
        return all(f.name in names and _within(f.type, whole.field(f.name).type) for f in part)
    if pa.types.is_list(part) and pa.types.is_list(whole):
        return _within(part.value_type, whole.value_type)
    return bool(part == whole)


def test_the_page_sizes_are_part_of_the_ocr() -> None:
    """A batch gives the page sizes from either (``Batch.page_sizes``)."""
    assert _within(REGISTRY.reads[PAGE_SIZE], REGISTRY.reads["fullTextAnnotation"])


def test_every_flattener_fills_the_tables_it_declares() -> None:
    parsed = shard({}, {"labelAnnotations": [{"description": "cat"}]})
    for where, declaration in REGISTRY.declarations.items():
        got = vr.flatten_shard(parsed, declaration.tables)
        assert list(got) == list(declaration.tables), where
        assert all(got[name].schema == declaration.tables[name] for name in got), where


def test_a_declaration_alone_makes_a_table() -> None:
    registry = Registry.of({**REGISTRY.declarations, "elsewhere": LABEL_COUNTS})
    names = registry.table_names
    assert names.index("labels") + 1 == names.index("label_counts")
    assert registry.schemas["label_counts"] == COUNTS
    assert registry.fields_for({"label_counts"}) == {"labelAnnotations"}
    responses = ({"labelAnnotations": [{"description": "a"}, {"description": "b"}]}, {})
    parsed = shard(*responses)
    kind = registry.response_type(registry.fields_for({"label_counts", "errors"}))
    assert kind.names == ["labelAnnotations", "error"]
    batch = Batch.of(parsed, to_arrow(parsed.responses, kind, ["r0", "r1"]))
    got = registry.flatten(batch, ["label_counts", "errors"])
    assert list(got) == ["label_counts", "errors"]
    assert got["label_counts"].column("n_labels").to_pylist() == [2, 0]


def _declaring(**fields: Any) -> Declaration:
    given = {"tables": {"label_counts": COUNTS}, "reads": {}, "flatten": count_labels}
    return Declaration(**{**given, "position": 1, **fields})


def test_two_declarations_at_one_position_are_refused() -> None:
    with pytest.raises(ValueError, match="b and a both declare position 1"):
        Registry.of({"a": _declaring(), "b": _declaring(tables={"other": COUNTS})})


def test_two_declarations_of_one_table_are_refused() -> None:
    with pytest.raises(ValueError, match="both declare the table 'label_counts'"):
        Registry.of({"a": _declaring(), "b": _declaring(position=2)})


def test_one_field_read_as_two_types_is_refused() -> None:
    reads_labels_differently = _declaring(
        tables={"other": COUNTS}, reads={"labelAnnotations": pa.list_(pa.string())}
    )
    with pytest.raises(TypeError, match="'labelAnnotations' as different types") as caught:
        Registry.of({"mine": reads_labels_differently, "labels": LABEL_COUNTS})
    assert "mine: list<item: string>" in str(caught.value)


def test_a_field_differing_only_in_metadata_is_refused() -> None:
    """An enum's metadata decides how it is decoded: it is part of the type."""
    plain = pa.struct([pa.field(f.name, f.type) for f in STATUS])
    with pytest.raises(TypeError, match="'error' as different types"):
        Registry.of({"mine": _declaring(reads={"error": plain})})


def test_a_field_no_response_has_is_refused() -> None:
    with pytest.raises(ValueError, match="reads 'labelAnnotation', which is no"):
        Registry.of({"mine": _declaring(reads={"labelAnnotation": ENTITIES})})


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty package ``fake_tables`` on the path, forgotten afterwards."""
    root = tmp_path / "fake_tables"
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [name for name in sys.modules if name.split(".")[0] == "fake_tables"]:
        del sys.modules[name]


def _module(package: Path, name: str, body: str) -> None:
    (package / f"{name}.py").write_text(textwrap.dedent(body))


DECLARES = """
    import pyarrow as pa

    from vision_results.tables._registry import Declaration

    DECLARATION = Declaration(
        tables={{"{table}": pa.schema([])}}, reads={{}}, flatten=dict, position={position}
    )
"""


def test_discovery_takes_every_module_but_helpers_in_position_order(package: Path) -> None:
    _module(package, "first", DECLARES.format(table="late", position=20))
    _module(package, "second", DECLARES.format(table="early", position=10))
    _module(package, "_helper", "SOMETHING = 1\n")
    found = discover("fake_tables", [str(package)])
    assert sorted(found) == ["fake_tables.first", "fake_tables.second"]
    assert Registry.of(found).table_names == ("early", "late")


def test_a_module_without_a_declaration_is_refused(package: Path) -> None:
    _module(package, "forgotten", "SCHEMA = None\n")
    with pytest.raises(TypeError, match=r"fake_tables\.forgotten has no DECLARATION"):
        discover("fake_tables", [str(package)])


def test_every_table_is_an_attribute_of_results() -> None:
    for name in vr.TABLE_NAMES:
        assert getattr(vr.Results, name).name == name


def test_a_table_may_not_hide_an_attribute_of_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results_module, "TABLE_NAMES", ("summary",))
    with pytest.raises(TypeError, match=r"the table 'summary' would hide Results\.summary"):
        results_module._add_tables(type("Derived", (vr.Results,), {}))
