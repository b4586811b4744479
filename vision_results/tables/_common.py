"""What every table shares: the key columns, enum names, languages, column building.

Normalisation rules, so the service's JSON (zero values omitted) and a client's
re-serialised JSON (every default present, enums as numbers) give identical rows:

- a missing number is 0 (proto3), a missing or empty string is null;
- an enum is always its name (``"LINE_BREAK"``), whether written as name or number;
- an empty list is the same as a missing one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from vision_results.parse import ParsedShard, Response
from vision_results.tables._boxes import box_columns, box_fields, struct_list

KEY_FIELDS = [
    pa.field("uri", pa.string(), nullable=False),
    pa.field("page_number", pa.int32()),
    pa.field("shard", pa.string(), nullable=False),
    pa.field("response_index", pa.int32(), nullable=False),
]
KEY_NAMES = [f.name for f in KEY_FIELDS]
BOX_FIELDS = box_fields()

LIKELIHOODS = ("UNKNOWN", "VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY")

_LANGUAGES_JSON = pa.list_(pa.struct([("languageCode", pa.string()), ("confidence", pa.float64())]))
LANGUAGES = pa.list_(pa.struct([("language_code", pa.string()), ("confidence", pa.float64())]))
PROPERTIES = pa.list_(
    pa.struct([("name", pa.string()), ("value", pa.string()), ("uint64_value", pa.uint64())])
)


def table_schema(*fields: pa.Field) -> pa.Schema:
    """A table's schema: the key columns, then its own."""
    return pa.schema([*KEY_FIELDS, *fields])


def likelihood_fields(*names: str) -> list[pa.Field]:
    """A name column and, beside it, ``<name>_level`` 0-5 for "at least LIKELY" filters."""
    return [
        field
        for name in names
        for field in (pa.field(name, pa.string()), pa.field(f"{name}_level", pa.int8()))
    ]


def likelihood(value: Any) -> tuple[str, int | None]:
    """A Likelihood as (name, level); an unknown future name has no level."""
    name = enum_name(value, LIKELIHOODS)
    return name, LIKELIHOODS.index(name) if name in LIKELIHOODS else None


def annotated(parsed: ParsedShard, field: str) -> Iterator[tuple[int, Any, Response]]:
    """(index, ``field``, response) of each response of the shard that has ``field``."""
    for index, response in enumerate(parsed.responses):
        value = response.get(field)
        if value:
            yield index, value, response


def enum_name(value: Any, names: Sequence[str]) -> str:
    """An enum as its name: names stay, numbers are looked up, missing is value 0."""
    if value is None:
        return names[0]
    if isinstance(value, int):
        return names[value] if 0 <= value < len(names) else str(value)
    return str(value)


def top_language(prop: dict[str, Any] | None) -> str | None:
    """The most confident of a TextProperty's detected languages (first on ties)."""
    languages = (prop or {}).get("detectedLanguages")
    if not languages:
        return None
    best = max(languages, key=lambda lang: lang.get("confidence", 0.0))
    return best.get("languageCode") or None


def properties(entity: dict[str, Any]) -> list[dict[str, Any]] | None:
    """An EntityAnnotation's ``properties`` (uint64 values arrive as strings)."""
    return [
        {
            "name": item.get("name") or None,
            "value": item.get("value") or None,
            "uint64_value": int(item.get("uint64Value") or 0),
        }
        for item in entity.get("properties") or ()
    ] or None


OBJECT_FIELDS = [
    pa.field("mid", pa.string()),
    pa.field("name", pa.string()),
    pa.field("language_code", pa.string()),
    pa.field("score", pa.float64()),
]


def object_values(item: dict[str, Any]) -> dict[str, Any]:
    """The columns of a LocalizedObjectAnnotation (objects, and product search's)."""
    return {
        "mid": item.get("mid") or None,
        "name": item.get("name") or None,
        "language_code": item.get("languageCode") or None,
        "score": item.get("score", 0.0),
    }


class Columns:
    """Column lists for one table of one shard, appended row by row.

    Only ``response_index`` is kept per row for the key; ``uri``, ``page_number``
    and ``shard`` are taken from the shard when the table is built. Boxes (one
    per column prefix, e.g. ``fd_`` for faces) and ``languages`` keep the JSON's
    lists and are converted for all rows at once.
    """

    def __init__(self, schema: pa.Schema, parsed: ParsedShard) -> None:
        self.schema = schema
        self.parsed = parsed
        self.box_prefixes = [
            name.removesuffix("normalized_vertices")
            for name in schema.names
            if name.endswith("normalized_vertices")
        ]
        boxed = {
            f.name
            for prefix in self.box_prefixes
            for f in box_fields(prefix, normalized_bounds=True)
        }
        own = [name for name in schema.names if name not in KEY_NAMES and name not in boxed]
        self.data: dict[str, list[Any]] = {name: [] for name in own}
        self.rows: list[int] = []
        self._boxes: dict[str, tuple[list[Any], list[Any], list[Any], list[Any]]] = {
            prefix: ([], [], [], []) for prefix in self.box_prefixes
        }

    def key(self, index: int) -> None:
        """Start a row for response ``index``."""
        self.rows.append(index)

    def boxes(self, prefix: str = "") -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """The lists :meth:`add_box` appends to (vertices, normalized vertices, page
        widths, page heights), for hot loops that fill them directly."""
        return self._boxes[prefix]

    def add(self, **values: Any) -> None:
        for name, value in values.items():
            self.data[name].append(value)

    def add_box(
        self, poly: dict[str, Any] | None, width: Any, height: Any, prefix: str = ""
    ) -> None:
        """The row's BoundingPoly, with the page size to scale normalized vertices."""
        vertices, normalized, widths, heights = self._boxes[prefix]
        if poly:
            vertices.append(poly.get("vertices") or None)
            normalized.append(poly.get("normalizedVertices") or None)
        else:
            vertices.append(None)
            normalized.append(None)
        widths.append(width)
        heights.append(height)

    def table(self, **arrays: pa.Array) -> pa.Table:
        """The Arrow table; ``arrays`` gives columns computed elsewhere."""
        index = pa.array(self.rows, pa.int32())
        positions = self.parsed.indexes
        columns: dict[str, Any] = {
            "uri": pa.array(self.parsed.uris, pa.string()).take(index),
            "page_number": pa.array(self.parsed.pages, pa.int32()).take(index),
            "shard": pa.repeat(self.parsed.shard, len(self.rows)),
            "response_index": index if positions is None else pa.array(positions).take(index),
            **self.data,
            **arrays,
        }
        if "languages" in self.data:
            with _naming("languages"):
                columns["languages"] = struct_list(
                    self.data["languages"],
                    _LANGUAGES_JSON,
                    ["language_code", "confidence"],
                    {"confidence": 0.0},
                )
        for prefix, boxes in self._boxes.items():
            with _naming(f"{prefix}vertices"):
                columns.update(box_columns(*boxes, prefix=prefix))
        ordered = {name: columns[name] for name in self.schema.names}
        try:
            return pa.Table.from_pydict(ordered, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            for field in self.schema:  # find the column (slow; errors only)
                with _naming(field.name):
                    pa.array(ordered[field.name], field.type)
            raise


@contextmanager
def _naming(column: str) -> Iterator[None]:
    """A JSON value of the wrong type (a string where a number belongs) becomes a
    TypeError naming the column."""
    try:
        yield
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise TypeError(f"a value of the wrong JSON type for column {column}: {exc}") from None
