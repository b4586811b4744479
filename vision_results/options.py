"""Every option of an export, in one object, checked once.

:func:`vision_results.export` builds an :class:`ExportOptions` from its
arguments (the command line calls the same function), validates it, and hands it
whole to the engine; the Dask engine ships it to its workers as it is (it holds
no client), so no option can be dropped on the way. An option an engine does
not take is refused by the engine's own :func:`check` (:data:`REFUSED`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from vision_results.errors import UsageError
from vision_results.stream import DEFAULT_WORKERS, MAX_SHARD_BYTES
from vision_results.tables import TABLE_NAMES

OnError = Literal["raise", "skip"]
Engine = Literal["local", "dask"]
CHECKPOINT_BYTES = 512 << 20
"""How many bytes of shards are read between two checkpoints (resume.py)."""


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how (the arguments of :func:`vision_results.export`)."""

    tables: tuple[str, ...] = TABLE_NAMES
    """The tables to write, in reference order."""
    on_error: OnError = "raise"
    workers: int = DEFAULT_WORKERS
    processes: int = 0
    overwrite: bool = False
    resume: bool = False
    keep_all: bool = False
    progress: bool | None = None
    engine: Engine = "local"
    checkpoint_bytes: int = CHECKPOINT_BYTES
    max_shard_bytes: int = MAX_SHARD_BYTES
    retry_deadline: float | None = None
    include: tuple[str, ...] | None = None

    @classmethod
    def of(cls, tables: Iterable[str] | None = None, **values: Any) -> ExportOptions:
        """The options from ``export``'s arguments, normalised and checked."""
        include = values.pop("include", None)
        options = cls(
            tables=check_tables(tables),
            include=None if include is None else tuple(include),
            **values,
        )
        options.check()
        return options

    def check(self) -> None:
        """Refuse what no engine can take, with a :class:`UsageError` saying why."""
        if self.on_error not in ("raise", "skip"):
            raise UsageError(f"on_error must be 'raise' or 'skip', not {self.on_error!r}")
        if self.engine not in ("local", "dask"):
            raise UsageError(f"engine must be 'local' or 'dask', not {self.engine!r}")
        for name in ("workers", "checkpoint_bytes", "max_shard_bytes"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.processes < 0:
            raise UsageError(f"processes must be 0 or more, not {self.processes}")
        if self.retry_deadline is not None and not self.retry_deadline > 0:
            raise UsageError(
                f"retry_deadline must be a positive number of seconds, not {self.retry_deadline}"
            )
        if self.include is not None and not self.include:
            raise UsageError("include needs at least one glob (or None for the default)")

    def refuse(self, engine: str, names: Sequence[str]) -> None:
        """Refuse the options of ``names`` that an engine does not take but were set."""
        default = ExportOptions()
        for name in names:
            if getattr(self, name) != getattr(default, name):
                raise UsageError(
                    f"{name} is for the local engine; the {engine} engine {REFUSED[name]}"
                )


REFUSED = {
    "processes": "decodes in its workers' threads (give them processes with "
    "dask worker --nworkers N --nthreads 1)",
}
"""Why the Dask engine takes no such option (every other it honours)."""
NAMES = tuple(f.name for f in fields(ExportOptions))


def check_tables(tables: Iterable[str] | None) -> tuple[str, ...]:
    """The asked-for table names in reference order; all when None."""
    if tables is None:
        return TABLE_NAMES
    wanted = set(tables)
    if not wanted:
        raise UsageError(f"no table names given. Give one or more of: {', '.join(TABLE_NAMES)}.")
    unknown = sorted(wanted - set(TABLE_NAMES))
    if unknown:
        raise UsageError(f"{unknown_table(unknown[0])} Known: {', '.join(TABLE_NAMES)}.")
    return tuple(name for name in TABLE_NAMES if name in wanted)


def unknown_table(name: str) -> str:
    """ "unknown table X", with the closest names when there are any."""
    close = difflib.get_close_matches(name, TABLE_NAMES, n=2, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)." if close else "."
    return f"unknown table: {name}{hint}"
