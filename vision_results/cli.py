"""The ``vision-results`` command: a thin layer over :func:`vision_results.export`."""

from __future__ import annotations

import sys

import click

from vision_results.errors import VisionResultsError
from vision_results.export import export
from vision_results.stream import DEFAULT_WORKERS
from vision_results.tables import TABLE_NAMES


@click.group()
@click.version_option(package_name="vision-results")
def main() -> None:
    """Google Cloud Vision batch output as tidy Parquet tables."""


@main.command("export")
@click.argument("source")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option(
    "--tables",
    metavar="NAMES",
    help=f"Comma-separated tables to write (default: all): {','.join(TABLE_NAMES)}.",
)
@click.option(
    "--on-error",
    type=click.Choice(["raise", "skip"]),
    default="raise",
    show_default=True,
    help="On a bad shard: stop with an error, or skip it and list it in the report.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=DEFAULT_WORKERS,
    show_default=True,
    help="Shards downloaded at once (and parsed, with --processes 0); memory grows with it.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=0),
    default=None,
    help="Processes that parse shards; 0 parses in the download threads "
    "(default: one per core when SOURCE holds 64 MB or more, else 0).",
)
@click.option("--overwrite", is_flag=True, help="Replace DEST if it exists.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
def export_command(
    source: str,
    dest: str,
    tables: str | None,
    on_error: str,
    workers: int,
    processes: int | None,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Export the Vision responses under SOURCE to DEST/<table>/part-*.parquet.

    SOURCE is gs://BUCKET/PREFIX, a local folder or one file. DEST is a local
    folder; it also gets _export.json, the record of what was read and skipped.
    """
    names = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
    try:
        report = export(
            source,
            dest,
            tables=names,
            on_error="skip" if on_error == "skip" else "raise",
            workers=workers,
            processes=processes,
            overwrite=overwrite,
            progress=False if quiet else None,
        )
    except VisionResultsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if not quiet:
        click.echo(report.summary())
        click.echo(f"wrote    {dest}")


if __name__ == "__main__":
    main()
