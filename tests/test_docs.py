"""The docs cannot drift from the code: every table, column, type and CLI option is documented.

docs/tables.md has one ``## <table>`` section per table of ``SCHEMAS`` whose
``| column | type | description |`` table lists the schema's columns, in order,
with ``str(field.type)`` as the type.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from vision_results.cli import main
from vision_results.report import ExportReport, ShardRecord
from vision_results.tables import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]
TABLES_MD = ROOT / "docs" / "tables.md"
JOBS_MD = ROOT / "docs" / "jobs.md"

HEADER = ("column", "type", "description")
# A pipe not preceded by a backslash separates cells (GFM writes a literal one as \|).
CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> list[str]:
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [cell.strip().replace("\\|", "|") for cell in CELL_SPLIT.split(inner)]


def _unquote(cell: str) -> str:
    """A cell without the backticks of a code span."""
    return cell[1:-1] if len(cell) >= 2 and cell[0] == cell[-1] == "`" else cell


def sections(text: str) -> dict[str, list[str]]:
    """The lines of each ``## `` section, by heading (code blocks do not start sections)."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            heading = _unquote(line[3:].strip())
            assert heading not in out, f"docs/tables.md has two sections named {heading!r}"
            current = out[heading] = []
        elif current is not None:
            current.append(line)
    return out


def column_table(lines: list[str]) -> list[tuple[str, str]] | None:
    """The (column, type) rows of the section's column table, or None when it has none."""
    rows: list[tuple[str, str]] | None = None
    for line in lines:
        if not line.lstrip().startswith("|"):
            if rows is not None:
                break  # the table ended
            continue
        cells = _cells(line)
        if rows is None:
            if tuple(c.lower() for c in cells[:3]) == HEADER:
                rows = []
            continue
        if all(set(c) <= set("-: ") for c in cells):
            continue  # the separator row
        assert len(cells) == 3, f"row {line!r} should have 3 cells: column | type | description"
        assert cells[2], f"column {cells[0]} has no description"
        rows.append((_unquote(cells[0]), _unquote(cells[1])))
    return rows


@pytest.fixture(scope="module")
def documented() -> dict[str, list[tuple[str, str]]]:
    tables = {}
    for heading, lines in sections(TABLES_MD.read_text(encoding="utf-8")).items():
        rows = column_table(lines)
        if rows is not None:
            tables[heading] = rows
    return tables


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_every_table_documented_with_its_columns_and_types(
    documented: dict[str, list[tuple[str, str]]], name: str
) -> None:
    assert name in documented, f"docs/tables.md has no '## {name}' section with a column table"
    expected = [(field.name, str(field.type)) for field in SCHEMAS[name]]
    assert documented[name] == expected


def test_no_section_for_a_table_that_does_not_exist(
    documented: dict[str, list[tuple[str, str]]],
) -> None:
    assert set(documented) <= set(SCHEMAS), (
        f"docs/tables.md documents tables the code lacks: {sorted(set(documented) - set(SCHEMAS))}"
    )


def test_symbols_said_to_be_left_out() -> None:
    assert "symbols are left out by design" in TABLES_MD.read_text(encoding="utf-8")


def _spellings(param: click.Parameter) -> list[str]:
    if isinstance(param, click.Argument):
        return [param.human_readable_name]  # SOURCE, DEST
    return [*param.opts, *param.secondary_opts]


COMMAND_DOCS = {"export": TABLES_MD, "submit": JOBS_MD, "status": JOBS_MD, "wait": JOBS_MD,
                "reconcile": JOBS_MD}  # fmt: skip


def test_every_command_has_its_reference() -> None:
    assert set(main.commands) == set(COMMAND_DOCS)


@pytest.mark.parametrize(
    ("command", "param"),
    [(name, param) for name, command in main.commands.items() for param in command.params],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_every_option_documented(command: str, param: click.Parameter) -> None:
    docs = COMMAND_DOCS[command].read_text(encoding="utf-8")
    section = docs[docs.index(f"vision-results {command}") :]
    for spelling in _spellings(param):
        pattern = rf"(?<![\w-]){re.escape(spelling)}(?![\w-])"
        assert re.search(pattern, section), (
            f"{spelling} of `vision-results {command}` is undocumented"
        )


def test_every_field_of_the_export_record_documented() -> None:
    section = TABLES_MD.read_text(encoding="utf-8").split("### The export record")[1]
    section = section.split("\n### ")[0]
    for field in dataclasses.fields(ExportReport):
        assert f"`{field.name}`" in section, f"{field.name} of _export.json is undocumented"
    for field in dataclasses.fields(ShardRecord):
        assert f"`{field.name}`" in section, f"shards[].{field.name} is undocumented"


def test_every_serialisation_the_tests_read_is_listed() -> None:
    """The forms tests/test_serialisations.py reads are the ones docs/tables.md names."""
    from tests.serialisations import FORMS

    section = "\n".join(
        sections(TABLES_MD.read_text(encoding="utf-8"))["What is read, what is ignored"]
    )
    for form in FORMS:
        assert f"| `{form}`" in section or f"| proto-plus `{form}`" in section, form


def test_every_command_has_a_one_line_summary_that_fits_the_list() -> None:
    listed = CliRunner().invoke(main, ["--help"], terminal_width=80).output
    commands = listed.split("Commands:\n")[1].splitlines()
    assert len(commands) == len(main.commands)
    for line in commands:
        name, summary = line.split(maxsplit=1)
        assert summary == main.commands[name].short_help, f"{name}: cut to {summary!r}"
