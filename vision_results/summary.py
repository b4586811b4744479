"""``res.summary()``: a compact overview of what was read, shown as an HTML table in
a notebook and as plain text in a terminal (``print(res.summary())``)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pyarrow as pa

from vision_results.report import ExportReport
from vision_results.status import status_name


@dataclass
class Summary:
    source: str
    responses: int
    errors: dict[str, int] = field(default_factory=dict)
    """Answers with an error, by status (e.g. ``"UNAVAILABLE (14)"``)."""
    rows: dict[str, int] = field(default_factory=dict)
    top_labels: list[tuple[str, int]] = field(default_factory=list)
    """The most frequent labels and how many images have each."""
    gaps: list[str] = field(default_factory=list)
    """What is missing (skipped shards, unrecognised responses, unanswered images);
    empty when complete."""
    unknown_fields: dict[str, int] = field(default_factory=dict)
    """Keys Vision does not have, not exported, and how many responses carry each."""

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The overview as (heading, [(name, value)]) sections."""
        return [
            (
                "read",
                [
                    ("source", self.source),
                    ("responses", f"{self.responses:,}"),
                    ("status", "; ".join(self.gaps) if self.gaps else "complete"),
                ],
            ),
            ("errors by code", [(name, f"{n:,}") for name, n in self.errors.items()]),
            (
                "unknown fields (not exported)",
                [(name, f"{n:,}") for name, n in self.unknown_fields.items()],
            ),
            ("rows per table", self._rows()),
            ("top labels (images)", [(label, f"{n:,}") for label, n in self.top_labels]),
        ]

    def _rows(self) -> list[tuple[str, str]]:
        """Tables with rows, then the empty ones in one line (as the export's summary)."""
        rows = [(name, f"{n:,}") for name, n in self.rows.items() if n]
        empty = [name for name, n in self.rows.items() if not n]
        return [*rows, (f"{len(empty)} empty", ", ".join(empty))] if empty else rows

    def __str__(self) -> str:
        lines = []
        for heading, items in self.sections():
            if not items:
                continue
            lines.append(heading)
            width = max(len(name) for name, _ in items)
            lines += [f"  {name:<{width}}  {value}" for name, value in items]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """Jupyter shows this instead of the text."""
        rows = []
        for heading, items in self.sections():
            if not items:
                continue
            rows.append(
                f'<tr><th colspan="2" style="text-align:left">{html.escape(heading)}</th></tr>'
            )
            rows += [
                f'<tr><td style="text-align:left">{html.escape(name)}</td>'
                f'<td style="text-align:right">{html.escape(value)}</td></tr>'
                for name, value in items
            ]
        return f'<table class="vision-results-summary">{"".join(rows)}</table>'


def summarize(report: ExportReport, labels: pa.Table | None, top: int = 10) -> Summary:
    """The overview of ``report``; ``labels`` (``description`` and ``uri``) gives the
    top labels when that table was read."""
    summary = Summary(
        source=report.source,
        responses=report.images,
        errors={
            f"{status_name(int(code))} ({code})": count
            for code, count in report.errors_by_code.items()
        },
        rows=dict(report.rows),
        gaps=report.gaps(),
        unknown_fields=dict(report.unknown_fields),
    )
    if labels is not None and labels.num_rows:
        pairs = labels.select(["description", "uri"]).group_by("description")
        counts = pairs.aggregate([("uri", "count_distinct")]).sort_by(
            [("uri_count_distinct", "descending"), ("description", "ascending")]
        )
        head = counts.slice(0, top).to_pylist()
        summary.top_labels = [
            (row["description"] or "(none)", row["uri_count_distinct"]) for row in head
        ]
    return summary
