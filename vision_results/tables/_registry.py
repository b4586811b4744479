"""What a table module declares about itself, and the registry built from that.

Each public module of :mod:`vision_results.tables` ends with ``DECLARATION =
Declaration(...)``: the tables its flattener fills (with their schemas), the
response fields it reads (with their Arrow types), the flattener, and where its
tables come in the reference order. Nothing else names a table:
:func:`discover` finds the modules, and a :class:`Registry` derives from their
declarations the table names, the fields to decode for any set of tables and
the Arrow type to decode them into.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pyarrow as pa

from vision_results.batch import Batch
from vision_results.messages import PAGE_SIZE, STATUS
from vision_results.naming import RESPONSE_FIELDS

Flattener = Callable[[Batch], dict[str, pa.Table]]

ALWAYS: dict[str, pa.DataType] = {"error": STATUS}
"""Decoded whatever tables are asked for: every response may carry an error."""
_FULL_TEXT = "fullTextAnnotation"
"""The field that :data:`~vision_results.messages.PAGE_SIZE` reads a part of."""


@dataclass(frozen=True, eq=False)
class Declaration:
    """One table module's tables: a group of tables one flattener fills."""

    tables: Mapping[str, pa.Schema]
    """The tables :attr:`flatten` returns, by name, in their reference order."""
    reads: Mapping[str, pa.DataType]
    """Each response field :attr:`flatten` reads, with its Arrow type; the
    pseudo-field :data:`~vision_results.messages.PAGE_SIZE` reads only the OCR
    pages' sizes, which tables with boxes need to scale normalized vertices."""
    flatten: Flattener
    position: int
    """Where these tables come in ``TABLE_NAMES``: declarations are ordered by it
    (the modules use tens, so a new one can come between any two)."""


def discover(package: str, path: Iterable[str]) -> dict[str, Declaration]:
    """The declaration of every module of ``package`` (whose ``__path__`` is
    ``path``), by module name; modules named ``_...`` are helpers and skipped."""
    found: dict[str, Declaration] = {}
    for module in pkgutil.iter_modules(path):
        if module.name.startswith("_"):
            continue
        name = f"{package}.{module.name}"
        declaration = getattr(importlib.import_module(name), "DECLARATION", None)
        if not isinstance(declaration, Declaration):
            raise TypeError(
                f"{name} has no DECLARATION = Declaration(...): a table module declares its "
                "tables; a helper module's name starts with an underscore"
            )
        found[name] = declaration
    return found


@dataclass(frozen=True, eq=False)
class Registry:
    """The tables of some declarations, and what decoding them takes."""

    declarations: dict[str, Declaration]
    """By where each is declared, in order of position."""
    schemas: dict[str, pa.Schema]
    """Every table's schema, in the reference order."""
    reads: dict[str, pa.DataType]
    """Every field any declaration reads (and :data:`ALWAYS`), with its type."""

    @classmethod
    def of(cls, declarations: Mapping[str, Declaration]) -> Registry:
        """The registry of ``declarations`` (by where each is declared); raises if
        two share a position or a table, or read one field as different types."""
        ordered = dict(sorted(declarations.items(), key=lambda item: item[1].position))
        positions: dict[int, str] = {}
        owners: dict[str, str] = {}
        schemas: dict[str, pa.Schema] = {}
        for where, declaration in ordered.items():
            position = declaration.position
            other = positions.setdefault(position, where)
            if other != where:
                raise ValueError(f"{where} and {other} both declare position {position}")
            for table, schema in declaration.tables.items():
                other = owners.setdefault(table, where)
                if other != where:
                    raise ValueError(f"{where} and {other} both declare the table {table!r}")
                schemas[table] = schema
        sources = [(where, declaration.reads) for where, declaration in ordered.items()]
        reads = _merge([*sources, ("every response", ALWAYS)])
        return cls(ordered, schemas, reads)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(self.schemas)

    def fields_for(self, tables: Iterable[str]) -> frozenset[str]:
        """The response fields the flatteners of ``tables`` read."""
        wanted = set(tables)
        return frozenset(
            field
            for declaration in self.declarations.values()
            if wanted.intersection(declaration.tables)
            for field in declaration.reads
        )

    def response_type(self, fields: Iterable[str]) -> pa.StructType:
        """The AnnotateImageResponse as decoded for ``fields`` (and :data:`ALWAYS`):
        the page sizes alone stand for ``fullTextAnnotation`` unless it is read whole."""
        wanted = set(fields) | set(ALWAYS)
        chosen = [
            pa.field(name, kind)
            for name, kind in self.reads.items()
            if name in wanted and name != PAGE_SIZE
        ]
        if PAGE_SIZE in wanted and _FULL_TEXT not in wanted:
            chosen.append(pa.field(_FULL_TEXT, self.reads[PAGE_SIZE]))
        return pa.struct(chosen)

    def flatten(self, batch: Batch, tables: Iterable[str]) -> dict[str, pa.Table]:
        """The asked-for tables of ``batch``, by name, in the reference order."""
        wanted = set(tables)
        out: dict[str, pa.Table] = {}
        for declaration in self.declarations.values():
            if wanted.intersection(declaration.tables):
                out.update((k, v) for k, v in declaration.flatten(batch).items() if k in wanted)
        return out


def _merge(sources: Iterable[tuple[str, Mapping[str, pa.DataType]]]) -> dict[str, pa.DataType]:
    """The fields ``sources`` read, in order of first read; one field read as two
    types would decode as only one of them, so that raises."""
    merged: dict[str, pa.DataType] = {}
    readers: dict[str, str] = {}
    for where, reads in sources:
        for name, kind in reads.items():
            if name not in RESPONSE_FIELDS and name != PAGE_SIZE:
                raise ValueError(f"{where} reads {name!r}, which is no AnnotateImageResponse field")
            known = merged.setdefault(name, kind)
            readers.setdefault(name, where)
            if not known.equals(kind, check_metadata=True):  # metadata steers decoding
                raise TypeError(
                    f"{where} and {readers[name]} read {name!r} as different types "
                    f"(a shared type belongs in vision_results.messages):\n"
                    f"  {where}: {kind}\n  {readers[name]}: {known}"
                )
    return merged
