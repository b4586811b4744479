"""The ``vision-results`` command: a thin layer over :func:`vision_results.export`."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

import click
import orjson

from vision_results import jobs
from vision_results.check import check
from vision_results.errors import DestinationError, UsageError, VisionResultsError
from vision_results.export import CHECKPOINT_BYTES, export
from vision_results.jobs.api import API_VERSIONS, FEATURES, OperationStatus
from vision_results.jobs.manifest import JobManifest
from vision_results.jobs.run import MAX_IN_FLIGHT, describe
from vision_results.source import DEFAULT_DEADLINE, LOCAL_DEFAULT
from vision_results.status import status_name
from vision_results.stream import DEFAULT_WORKERS, MAX_SHARD_BYTES
from vision_results.tables import TABLE_NAMES


@click.group()
@click.version_option(package_name="vision-results")
def main() -> None:
    """Google Cloud Vision batch output as tidy Parquet tables."""


@main.command("export", short_help="Export Vision responses to Parquet tables.")
@click.argument("source")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option(
    "--tables",
    metavar="NAMES",
    help="Comma-separated tables to write (default: all); only these are written, beside "
    f"DEST/_answers, the export's own index of answers. Tables: {', '.join(TABLE_NAMES)}.",
)
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="Read the files whose path under SOURCE, or file name, matches GLOB (repeat for "
    f"more). Default: {LOCAL_DEFAULT[0]} in a local folder, output-N-to-M.json under gs://.",
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
    help="Shards read at once from gs:// (downloads wait on the network); decoding uses one "
    "thread per core, at most this many.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=0),
    default=0,
    help="Processes that decode shards; 0 (the default) decodes in the download threads, "
    "which use every core (pyarrow decodes outside the GIL).",
)
@click.option("--overwrite", is_flag=True, help="Replace DEST if it exists.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue a killed or stopped export to DEST, or bring a finished one up to date: "
    "read only shards that are new or changed since.",
)
@click.option(
    "--keep-all",
    is_flag=True,
    help="Keep every answer of an image answered more than once (default: the latest "
    "successful one).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with status 3 when anything is missing: no shards read, shards skipped, "
    "responses not recognised, files of Vision responses not read, or a job's images "
    "without an answer.",
)
@click.option(
    "--checkpoint-mb",
    type=click.IntRange(min=1),
    default=CHECKPOINT_BYTES >> 20,
    show_default=True,
    help="Record progress for --resume every this many MB of shards read.",
)
@click.option(
    "--max-shard-mb",
    type=click.IntRange(min=1),
    default=MAX_SHARD_BYTES >> 20,
    show_default=True,
    help="Refuse shards larger than this, unread (they are parsed in memory).",
)
@click.option(
    "--retry-deadline",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="How long each listing page or download from gs:// is retried (503, 429, 500, "
    f"resets, timeouts) before it counts as failed [default: {DEFAULT_DEADLINE:.0f}; "
    "without it a refused connection while listing fails at once].",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: this machine; dask: the workers of the Dask cluster at --scheduler.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Address of the Dask scheduler, e.g. tcp://10.0.0.2:8786 (with --engine dask).",
)
def export_command(
    source: str,
    dest: str,
    tables: str | None,
    include: tuple[str, ...],
    on_error: str,
    workers: int,
    processes: int,
    overwrite: bool,
    resume: bool,
    keep_all: bool,
    strict: bool,
    checkpoint_mb: int,
    max_shard_mb: int,
    retry_deadline: float | None,
    quiet: bool,
    engine: str,
    scheduler: str | None,
) -> None:
    """Export the Vision responses under SOURCE to DEST/<table>/part-*.parquet.

    SOURCE is gs://BUCKET/PREFIX, a local folder or one file. DEST is a local
    folder or gs://BUCKET/PREFIX; it also gets _export.json, the record of what
    was read and skipped. The summary at the end says
    complete, or INCOMPLETE and why.

    \b
    Examples:
      vision-results export gs://my-bucket/vision-output/ tables/
      vision-results export saved/ tables/ --include 'page*.json' --tables labels --strict
      vision-results export gs://my-bucket/vision-output/ gs://my-bucket/tables/ --resume

    \b
    Exit status:
      0  exported (complete, or incomplete without --strict)
      1  an error: a bad shard, no access, DEST exists, ...
      2  a wrong argument: an unknown table, DEST inside SOURCE, ...
      3  with --strict: the export is incomplete
    """
    if engine == "dask" and not scheduler:
        raise click.UsageError("--engine dask needs --scheduler ADDRESS (the Dask scheduler)")
    if engine == "local" and scheduler:
        raise click.UsageError("--scheduler is for --engine dask")
    names = None
    if tables is not None:
        names = [t.strip() for t in tables.split(",") if t.strip()]
        if not names:
            raise click.UsageError("--tables needs at least one table name")
    try:
        report = export(
            source,
            dest,
            tables=names,
            include=include or None,
            on_error="skip" if on_error == "skip" else "raise",
            workers=workers,
            processes=processes,
            overwrite=overwrite,
            resume=resume,
            keep_all=keep_all,
            progress=False if quiet else None,
            engine="dask" if engine == "dask" else "local",
            scheduler=scheduler,
            checkpoint_bytes=checkpoint_mb << 20,
            max_shard_bytes=max_shard_mb << 20,
            retry_deadline=retry_deadline,
        )
    except VisionResultsError as exc:
        kept = resume and not isinstance(exc, DestinationError)
        _fail(exc, " (what was done is kept: run the command again to continue)" if kept else "")
    if not quiet:
        click.echo(report.summary())
        click.echo(f"wrote    {dest}")
    if report.read_nothing:
        click.echo(
            f"warning: no shards were read from {report.source}: check the path or prefix, "
            "and --include",
            err=True,
        )
    if strict and not report.complete:
        click.echo(f"error: incomplete export (--strict): {', '.join(report.gaps())}", err=True)
        sys.exit(3)


ENDPOINT_HELP = (
    "Vision endpoint, e.g. https://eu-vision.googleapis.com, or http://127.0.0.1:PORT for a "
    "local stand-in (default: $VISION_RESULTS_VISION_ENDPOINT, else Google's)."
)


def _fail(exc: VisionResultsError, hint: str = "") -> NoReturn:
    """A wrong argument exits with status 2 (as click's own), any other error with 1."""
    if isinstance(exc, UsageError):
        raise click.UsageError(str(exc)) from None
    click.echo(f"error: {exc}{hint}", err=True)
    sys.exit(1)


def _show(manifest: JobManifest, as_json: bool) -> None:
    if as_json:
        click.echo(manifest.to_json().decode())
        return
    for op in manifest.operations:
        span = (
            f"{op.first}-{op.last}"
            if op.positions is None
            else f"{len(op.images)} in {op.first}-{op.last}"
        )
        line = f"{op.state:<9} {op.kind} {span}  {op.output}  {op.name or '-'}"
        click.echo(line + (f"\n          {describe(op)}" if op.state == "FAILED" else ""))


@main.command("submit", short_help="Start a Vision job over images and PDF/TIFF/GIF files.")
@click.argument("images", nargs=-1, required=True)
@click.option(
    "--output",
    help="gs://BUCKET/PREFIX/ the job writes under. Required, except with --retry-failed.",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Resubmit the failed (retryable codes) and missing inputs of the job whose output "
    "is the one argument (a file whole), into new sub-prefixes recorded in the same manifest.",
)
@click.option(
    "--features",
    default=",".join(jobs.DEFAULT_FEATURES),
    show_default=True,
    help=f"Comma-separated Vision feature types, of: {', '.join(FEATURES)}.",
)
@click.option("--max-results", type=click.IntRange(min=1), help="maxResults of each feature.")
@click.option("--batch-size", type=click.IntRange(1, 100), default=20, show_default=True,
              help="Responses per output file: images, or pages of a file.")  # fmt: skip
@click.option("--parent", help="projects/P or projects/P/locations/{us,eu}.")
@click.option("--api-version", type=click.Choice(API_VERSIONS), default="v1", show_default=True)
@click.option("--endpoint", help=ENDPOINT_HELP)
@click.option("--max-in-flight", type=click.IntRange(min=1), default=MAX_IN_FLIGHT,
              show_default=True, help="Operations unfinished at once.")  # fmt: skip
@click.option("--wait/--no-wait", "wait_for_it", default=False, help="Wait for the job to finish.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def submit_command(
    images: tuple[str, ...],
    output: str | None,
    retry_failed: bool,
    features: str,
    max_results: int | None,
    batch_size: int,
    parent: str | None,
    api_version: str,
    endpoint: str | None,
    max_in_flight: int,
    wait_for_it: bool,
    as_json: bool,
) -> None:
    """Start asyncBatchAnnotate for IMAGES: gs:// URIs, gs://BUCKET/PREFIX/ folders of
    images, or files listing URIs (one per line, or a CSV with a uri column).

    PDF, TIFF and GIF inputs (.pdf, .tif, .tiff, .gif) go to files:asyncBatchAnnotate,
    every page annotated (the async method takes no page list), each file written
    under its own prefix; the rest to images:asyncBatchAnnotate. Images are split
    into operations of at most 2,000, files of at most 100, each writing under its
    own sub-prefix; OUTPUT/_job.json records the job for status, wait and export.

    Needs Google Cloud credentials (gcloud auth application-default login, or
    GOOGLE_APPLICATION_CREDENTIALS) allowed to read the images and write under
    OUTPUT, in a project with the Vision API enabled (the credentials' project, or
    GOOGLE_CLOUD_PROJECT; --parent names it for the job).
    """
    if retry_failed and (len(images) != 1 or output):
        raise click.UsageError("--retry-failed takes the job's output prefix alone")
    if not retry_failed and not output:
        raise click.UsageError("--output is required")
    try:
        if retry_failed:
            manifest = jobs.retry_failed(images[0], endpoint=endpoint, wait=wait_for_it)
        else:
            manifest = jobs.submit(
                images, str(output), features=[f.strip() for f in features.split(",") if f],
                max_results=max_results, batch_size=batch_size, parent=parent,
                api_version=api_version, endpoint=endpoint, max_in_flight=max_in_flight,
                wait=wait_for_it,
            )  # fmt: skip
    except VisionResultsError as exc:
        _fail(exc)
    _show(manifest, as_json)


@main.command("status", short_help="Show the state of a job's operations.")
@click.argument("output")
@click.option("--endpoint", help=ENDPOINT_HELP)
@click.option("--api-version", type=click.Choice(API_VERSIONS), default="v1", show_default=True,
              help="For an operation name; a job's manifest records its own.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def status_command(output: str, endpoint: str | None, api_version: str, as_json: bool) -> None:
    """Show the state of each operation of the job writing under OUTPUT, or of one
    operation given by name (projects/P/operations/ID)."""
    try:
        if not output.startswith("gs://"):
            state = jobs.operation_status(output, api_version=api_version, endpoint=endpoint)
            click.echo(orjson.dumps(asdict(state)).decode() if as_json else _state_line(state))
            return
        manifest = jobs.status(output, endpoint=endpoint)
    except VisionResultsError as exc:
        _fail(exc)
    _show(manifest, as_json)


def _state_line(state: OperationStatus) -> str:
    line = f"{state.state:<9} {state.name}"
    if state.error_code:
        line += f"\n          {status_name(state.error_code)} ({state.error_code}): "
        line += str(state.error_message)
    return line


@main.command("wait", short_help="Wait for a job to finish (resumable).")
@click.argument("output")
@click.option("--endpoint", help=ENDPOINT_HELP)
@click.option("--interval", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds between polls.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def wait_command(output: str, endpoint: str | None, interval: float, as_json: bool) -> None:
    """Wait for every operation of the job writing under OUTPUT (resumable: the state
    is in OUTPUT/_job.json). Exits 1 naming each failed operation and its code."""
    try:
        manifest = jobs.wait(output, endpoint=endpoint, interval=interval)
    except VisionResultsError as exc:
        _fail(exc)
    _show(manifest, as_json)


@main.command("reconcile", short_help="Account for an export or a job: read, failed, missing.")
@click.argument("target")
@click.option("--strict", is_flag=True, help="Exit with status 3 when anything is missing.")
def reconcile_command(target: str, strict: bool) -> None:
    """Account for an export or a job.

    TARGET is an export's DEST folder: what it read, rows per table, answers with
    an error by code, shards skipped and why and, if it read a job, the job's
    images (and pages) without an answer. Or the OUTPUT of a job started with
    submit: its inputs with a result, with an error (by code), and missing (for a
    file, which pages).
    """
    try:
        if target.startswith("gs://"):
            outcome = jobs.reconcile(target)
            click.echo(outcome.summary())
            complete = not outcome.missing and not outcome.errors
        else:
            report = check(Path(target))
            click.echo(report.summary())
            complete = report.complete
    except VisionResultsError as exc:
        _fail(exc)
    if strict and not complete:
        sys.exit(3)


if __name__ == "__main__":
    main()
