"""Export from Cloud Storage against plain concurrent downloads of the same blobs.

    python benchmarks/gcs.py --images 2000                   # ~330 MB of shards
    python benchmarks/gcs.py --images 20 --data /tmp/bench   # smoke run, seconds

fake-gcs-server (in memory, on loopback; started as the tests start it, by
``tests/gcs_server.py``) holds the shards of ``run.py``'s data set (same
generator, same cache under ``<data>/<images>img/``). Every measurement runs in
a fresh interpreter with ``STORAGE_EMULATOR_HOST`` set, so its client is the
one ``vision_results.source.storage_client()`` builds and its peak RSS is its
own. The server is started, and the shards uploaded, by a helper process, so
that this process stays small (a child's ``ru_maxrss`` starts at its parent's).

The floor is what a user would write without the package: list the prefix and
``blob.download_as_bytes()`` every blob on a ``ThreadPoolExecutor`` with as
many threads as the export's default workers (``vision_results.stream.
DEFAULT_WORKERS``). Ratios are measured in the same run, on the same blobs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from run import HEAD, ROOT, Result, dataset, table

BUCKET = "bench"
PREFIX = "vision/run-1"
URL = f"gs://{BUCKET}/{PREFIX}"

# Runs as `python -c` in ROOT: starts the server, uploads argv[1]'s shards under
# gs://BUCKET/PREFIX, prints the server's URL, then serves until stdin closes.
SERVE = f"""
import sys
from pathlib import Path
from tests.gcs_server import make_client, run_gcs_server, upload_bytes
folder = Path(sys.argv[1])
with run_gcs_server() as url:
    shards = {{f"{PREFIX}/{{p.relative_to(folder).as_posix()}}": p.read_bytes()
              for p in sorted(folder.rglob("output-*.json"))}}
    upload_bytes(make_client(url), "{BUCKET}", shards)
    del shards
    print(url, flush=True)
    sys.stdin.read()
"""

# Snippets get argv = [local copy of the shards, dest, SOURCE (the gs:// URL or the local
# copy), option] and print one JSON line (HEAD lists the local copy as `files`, unused).
FLOOR = """
from concurrent.futures import ThreadPoolExecutor
from vision_results.source import storage_client
from vision_results.stream import DEFAULT_WORKERS
bucket, _, prefix = sys.argv[3].removeprefix("gs://").partition("/")
checksum = None if sys.argv[4] == "None" else sys.argv[4]
start = time.perf_counter()
client = storage_client()
blobs = list(client.list_blobs(bucket, prefix=prefix))
with ThreadPoolExecutor(DEFAULT_WORKERS) as pool:
    sizes = pool.map(lambda blob: len(blob.download_as_bytes(checksum=checksum)), blobs)
    total = sum(sizes)
done(start, total)
"""

SOURCE_READ = """
from concurrent.futures import ThreadPoolExecutor
from vision_results.source import open_source
from vision_results.stream import DEFAULT_WORKERS
start = time.perf_counter()
source = open_source(sys.argv[3])
shards = source.list().shards
with ThreadPoolExecutor(DEFAULT_WORKERS) as pool:
    total = sum(pool.map(lambda shard: len(source.read(shard)), shards))
done(start, total)
"""

EXPORT = """
import vision_results as vr
tables = None if sys.argv[4] == "all" else sys.argv[4].split(",")
report = vr.export(sys.argv[3], dest, tables=tables, progress=False, overwrite=True)
done(time.perf_counter() - report.seconds, report.bytes_read)
"""

FLOOR_AUTO = "download_as_bytes, checksum='auto' (floor)"
FLOOR_NONE = "download_as_bytes, checksum=None (floor)"
READ = "GcsSource.read, no parse (export's download step)"
EXPORT_ALL = "export, all tables (default settings)"
EXPORT_ERRORS = "export, tables=['errors']"
LOCAL_ALL = "local copy: export, all tables (no download)"
LOCAL_ERRORS = "local copy: export, tables=['errors'] (no download)"
# method -> (snippet, its option, whether it reads from GCS or from the local copy)
METHODS: dict[str, tuple[str, str, bool]] = {
    FLOOR_AUTO: (FLOOR, "auto", True),
    FLOOR_NONE: (FLOOR, "None", True),
    READ: (SOURCE_READ, "-", True),
    EXPORT_ALL: (EXPORT, "all", True),
    EXPORT_ERRORS: (EXPORT, "errors", True),
    LOCAL_ALL: (EXPORT, "all", False),
    LOCAL_ERRORS: (EXPORT, "errors", False),
}


def measure(images: int, method: str, source: Path, dest: Path, env: dict[str, str]) -> Result:
    code, option, gcs = METHODS[method]
    where = URL if gcs else str(source)
    command = [sys.executable, "-c", HEAD + code, str(source), str(dest), where, option]
    out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode:
        sys.exit(f"{method} failed:\n{out.stderr}")
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return Result(images=images, method=method, **found)


def median(runs: list[Result]) -> Result:
    """The run of median time (its RSS with it)."""
    return sorted(runs, key=lambda r: r.seconds)[(len(runs) - 1) // 2]


BASES = {
    FLOOR_AUTO: "the floor (checksum='auto')",
    FLOOR_NONE: "the floor (checksum=None)",
    LOCAL_ERRORS: "the same export from the local copy",
    LOCAL_ALL: "the same export from the local copy",
}


def ratios(runs: dict[str, list[Result]]) -> str:
    """Each ratio taken within a round (the i-th run of both methods, minutes apart at
    most), then the median over rounds, with the range: load on a shared machine
    drifts more between rounds than within one."""
    pairs = [(name, floor) for name in (READ, EXPORT_ERRORS, EXPORT_ALL, LOCAL_ERRORS, LOCAL_ALL)
             for floor in (FLOOR_AUTO, FLOOR_NONE)]  # fmt: skip
    pairs += [(EXPORT_ERRORS, LOCAL_ERRORS), (EXPORT_ALL, LOCAL_ALL)]
    lines = []
    for name, base in pairs:
        found = sorted(a.mb_s / b.mb_s for a, b in zip(runs[name], runs[base], strict=True))
        spread = f" (rounds: {found[0]:.2f}-{found[-1]:.2f})" if len(found) > 1 else ""
        ratio = statistics.median(found)
        lines.append(f"{runs[name][0].images} images, {name}: {ratio:.2f}x {BASES[base]}{spread}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="images in the data set")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data", help="data folder")
    parser.add_argument("--repeat", type=int, default=1, help="runs per method (median shown)")
    args = parser.parse_args(argv)
    source = dataset(args.data, args.images)
    print(f"starting fake-gcs-server, uploading {source} ...", file=sys.stderr, flush=True)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(source)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    runs: dict[str, list[Result]] = {method: [] for method in METHODS}
    try:
        url = server.stdout.readline().strip()
        if not url:
            sys.exit("fake-gcs-server did not start (see the error above)")
        env = {**os.environ, "STORAGE_EMULATOR_HOST": url}
        with tempfile.TemporaryDirectory() as tmp:
            # Rounds of every method, each round starting one method later: drift on a
            # shared machine, and whatever a method leaves to the next, hit all alike.
            names = list(METHODS)
            for attempt in range(max(1, args.repeat)):
                shift = attempt % len(names)
                for method in names[shift:] + names[:shift]:
                    print(f"{args.images} images: {method} ...", file=sys.stderr, flush=True)
                    dest = Path(tmp) / f"{names.index(method)}-{attempt}"
                    runs[method].append(measure(args.images, method, source, dest, env))
    finally:
        server.stdin.close()
        server.wait()
    results = [median(found) for found in runs.values()]
    print(table(results))
    print()
    print(ratios(runs))
    if args.repeat > 1:
        print()
        for method, found in runs.items():
            print(f"MB/s of each run, {method}: " + ", ".join(f"{r.mb_s:.1f}" for r in found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
