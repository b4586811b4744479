"""What an export did: every shard read, everything skipped, rows per table.

The same record is printed as the command's summary, written as
``DEST/_export.json`` and returned to Python callers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from vision_results import __version__
from vision_results.errors import ShardError
from vision_results.status import status_name

if TYPE_CHECKING:
    from vision_results.stream import ShardResult


@dataclass
class ShardRecord:
    name: str
    location: str
    size: int
    generation: int | None
    responses: int
    errors: int = 0
    unrecognised: int = 0
    """Responses none of whose keys is a Vision field: not read."""
    unknown_fields: dict[str, int] = field(default_factory=dict)
    """Keys Vision does not have, beside ones it has: ignored, counted by name."""
    fallback: bool = False
    """Read by the exact decoder, not the fast path (same rows, slower)."""


@dataclass
class Skipped:
    name: str
    reason: str


@dataclass
class ExportReport:
    source: str
    tables: list[str]
    shards: list[ShardRecord] = field(default_factory=list)
    skipped_shards: list[Skipped] = field(default_factory=list)
    ignored_objects: list[Skipped] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    images: int = 0
    errors: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    keep_all: bool = False
    superseded: int = 0
    """Answers dropped because a later answer of the same image was kept."""
    reused_shards: int = 0
    """Shards an earlier run (``--resume``) had written, not read again."""
    replaced_shards: list[str] = field(default_factory=list)
    """Shards an earlier run had written whose generation changed (re-read) or that
    are gone from SOURCE (rows removed)."""
    errors_by_code: dict[str, int] = field(default_factory=dict)
    """Answers in ``images`` with an error, by gRPC code."""
    missing_images: list[str] | None = None
    """With a job manifest: the job's images no shard answered (None: no manifest)."""
    unrecognised: int = 0
    """Responses of the shards read that are not Vision responses (their keys are
    no Vision field in either naming): not in the tables; see each shard's count."""
    unknown_fields: dict[str, int] = field(default_factory=dict)
    """Keys Vision does not have (``Message.key``), beside ones it has, and how many
    responses carry each: not exported (a field newer than this version)."""
    fallback_shards: int = 0
    """Shards the fast path could not take (enums as numbers, snake_case keys, a
    value of another JSON type, ...), read by the exact decoder: same rows, slower."""
    unread_files: list[str] = field(default_factory=list)
    """Ignored objects (their names do not match ``include``) that hold Vision
    responses all the same: not read, so the export is incomplete."""
    version: str = __version__

    RECORD: ClassVar[str] = "_export.json"
    """Where the whole record can be seen, for the summary's "and N more"."""

    @property
    def complete(self) -> bool:
        """Every shard listed was read and, with a job manifest, every image answered."""
        return not self.gaps()

    def add(self, result: ShardResult) -> None:
        """Count one shard read, or list it as skipped with the reason."""
        shard = result.shard
        if result.error is not None:
            error = result.error
            reason = error.reason if isinstance(error, ShardError) else str(error)
            self.skipped_shards.append(Skipped(shard.name, reason))
            return
        self.shards.append(
            ShardRecord(
                shard.name,
                shard.location,
                shard.size,
                shard.generation,
                result.responses,
                result.errors,
                result.unrecognised,
                result.unknown_fields,
                result.fallback,
            )
        )
        self.fallback_shards += result.fallback
        self.images += result.responses
        self.errors += result.errors
        self.unrecognised += result.unrecognised
        self.unknown_fields = _add_counts(self.unknown_fields, result.unknown_fields)
        self.bytes_read += result.nbytes

    def recount(self) -> None:
        """Responses, errors and what was not read of every shard recorded, this run's
        and earlier ones'."""
        self.images = sum(record.responses for record in self.shards)
        self.errors = sum(record.errors for record in self.shards)
        self.unrecognised = sum(record.unrecognised for record in self.shards)
        self.fallback_shards = sum(record.fallback for record in self.shards)
        self.unknown_fields = {}
        for record in self.shards:
            self.unknown_fields = _add_counts(self.unknown_fields, record.unknown_fields)

    @property
    def mb_per_second(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds else 0.0

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes) -> ExportReport:
        raw: dict[str, Any] = orjson.loads(data)
        raw["shards"] = [ShardRecord(**s) for s in raw["shards"]]
        raw["skipped_shards"] = [Skipped(**s) for s in raw["skipped_shards"]]
        raw["ignored_objects"] = [Skipped(**s) for s in raw["ignored_objects"]]
        return cls(**raw)

    def summary(self) -> str:
        """A few lines for a person: what was read, what was left out, how fast.
        Tables are listed when they have rows; the empty ones in one line."""
        lines = [
            f"source   {self.source}",
            f"read     {len(self.shards)} shards, {self.bytes_read / 1e6:.1f} MB in "
            f"{self.seconds:.1f} s ({self.mb_per_second:.1f} MB/s)",
            f"images   {self.images} responses, {self.errors} with an error",
        ]
        lines += [
            f"  error {status_name(int(code))} ({code})  {count}"
            for code, count in self.errors_by_code.items()
        ]
        if self.fallback_shards:
            lines.append(
                f"decoded  {self.fallback_shards} of {len(self.shards)} shards by the exact "
                "decoder (a form the fast path does not take: enums as numbers, snake_case "
                "keys, ...): same rows, slower"
            )
        if self.reused_shards or self.replaced_shards:
            lines.append(
                f"resumed  {self.reused_shards} shards already exported, not read again; "
                f"{len(self.replaced_shards)} changed or gone (their old rows removed)"
            )
        if self.superseded:
            lines.append(
                f"dropped  {self.superseded} answers superseded by a later answer of the same "
                "image (--keep-all keeps them)"
            )
        filled = {name: rows for name, rows in self.rows.items() if rows}
        width = max((len(name) for name in filled), default=0)
        lines += [f"  {name:<{width}}  {rows:>12,} rows" for name, rows in filled.items()]
        empty = [name for name, rows in self.rows.items() if not rows]
        if empty:
            lines.append(f"  {empty_tables(empty)}")
        if self.skipped_shards:
            lines.append(
                f"SKIPPED  {len(self.skipped_shards)} bad shards (their rows are missing):"
            )
            lines += [f"  {s.name}: {s.reason}" for s in self.skipped_shards]
        if self.unrecognised:
            unread = [s for s in self.shards if s.unrecognised]
            lines.append(
                f"UNREAD   {self.unrecognised} responses are not Vision responses (no key is "
                "a Vision field), in:"
            )
            lines += [f"  {s.name}: {s.unrecognised}" for s in unread[:10]]
            if len(unread) > 10:
                lines.append(f"  ... and {len(unread) - 10} more (shards in {self.RECORD})")
        if self.unknown_fields:
            fields = ", ".join(f"{name} ({n})" for name, n in self.unknown_fields.items())
            lines.append(f"unknown  fields not exported (newer than this version?): {fields}")
        if self.missing_images:
            lines.append(
                f"MISSING  {len(self.missing_images)} images or pages of the job have no answer:"
            )
            lines += [f"  {uri}" for uri in self.missing_images[:10]]
            if len(self.missing_images) > 10:
                lines.append(
                    f"  ... and {len(self.missing_images) - 10} more (missing_images in "
                    f"{self.RECORD})"
                )
        if self.unread_files:
            lines.append(
                f"NOT READ {len(self.unread_files)} files hold Vision responses but their names "
                "are not read (--include GLOB, include=[...], reads them):"
            )
            lines += [f"  {name}" for name in self.unread_files[:10]]
            if len(self.unread_files) > 10:
                lines.append(
                    f"  ... and {len(self.unread_files) - 10} more (unread_files in {self.RECORD})"
                )
        if self.ignored_objects:
            lines.append(
                f"ignored  {len(self.ignored_objects)} objects that are not Vision output:"
            )
            lines += [f"  {s.name} ({s.reason})" for s in self.ignored_objects[:10]]
            if len(self.ignored_objects) > 10:
                lines.append(
                    f"  ... and {len(self.ignored_objects) - 10} more (ignored_objects in "
                    f"{self.RECORD})"
                )
        lines.append(self._verdict())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def gaps(self) -> list[str]:
        """What is missing, in words: nothing read at all, skipped shards, unrecognised
        responses, files of Vision responses not read, a job's unanswered images."""
        gaps = []
        if self.read_nothing:
            gaps.append("no shards read")
        if self.skipped_shards:
            gaps.append(f"{len(self.skipped_shards)} shards skipped")
        if self.unrecognised:
            gaps.append(f"{self.unrecognised} responses not recognised")
        if self.unread_files:
            gaps.append(f"{len(self.unread_files)} files of Vision responses not read")
        if self.missing_images:
            gaps.append(f"{len(self.missing_images)} images or pages of the job have no answer")
        return gaps

    @property
    def read_nothing(self) -> bool:
        """No shard was read (or skipped): a mistyped SOURCE, or names not included."""
        return not self.shards and not self.skipped_shards

    def _verdict(self) -> str:
        gaps = self.gaps()
        if self.read_nothing:
            return (
                f"INCOMPLETE  no shards read from {self.source}: check the path or prefix, "
                "and which names are read (--include)"
            )
        if gaps:
            return f"INCOMPLETE  {', '.join(gaps)}: their rows are missing from the tables"
        job = " and every image of the job has an answer" if self.missing_images == [] else ""
        return f"complete  every shard listed was read{job}"


def _add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Counts by name, added, in name order."""
    if not more:
        return total
    names = sorted({*total, *more})
    return {name: total.get(name, 0) + more.get(name, 0) for name in names}


def empty_tables(names: list[str]) -> str:
    """The tables without rows, in one line."""
    return f"{len(names)} empty: {', '.join(names)}"


class CachedReport(ExportReport):
    """The record of ``vr.open`` of a SOURCE, which lives in a temporary cache: its
    summary points at ``res.check()`` rather than a file the user cannot see."""

    RECORD: ClassVar[str] = "res.check()"

    @classmethod
    def of(cls, report: ExportReport) -> CachedReport:
        return cls(**{f.name: getattr(report, f.name) for f in fields(report)})
