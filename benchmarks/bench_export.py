"""Export throughput and peak memory, as ratios against a floor measured in the same run.

    python benchmarks/bench_export.py --mb 300            # one data set of ~300 MB
    python benchmarks/bench_export.py --mb 30 --mb 300    # does peak RSS grow with size?

The floor is bare ``orjson.loads`` of every shard (read + parse, nothing else),
timed in the same run on the same files: the machine is shared and absolute
times drift, the ratio holds. Each measurement runs in a fresh interpreter so
that peak RSS (``ru_maxrss``) is its own; parser processes are reported apart.
Data sets are generated once with the package's generator into ``bench-data/``
(git-ignored).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data"
WORDS_PER_IMAGE = 150
KB_PER_IMAGE = 165  # what the generator writes at 150 words per image, measured

FLOOR = """
import gc, json, resource, sys, time
from pathlib import Path
import orjson
files = sorted(Path(sys.argv[1]).rglob("output-*.json"))
gc.disable()  # the export pauses the GC too: compare like with like
start = time.perf_counter()
total = 0
for path in files:
    data = path.read_bytes()
    total += len(data)
    orjson.loads(data)
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "bytes": total, "rss_mb": rss, "child_rss_mb": 0}))
"""

EXPORT = """
import json, resource, sys
import vision_results as vr
processes = None if sys.argv[3] == "auto" else int(sys.argv[3])
report = vr.export(sys.argv[1], sys.argv[2], processes=processes, progress=False, overwrite=True)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": report.seconds, "bytes": report.bytes_read, "rss_mb": rss,
                  "child_rss_mb": child, "rows": report.rows}))
"""


def dataset(megabytes: int) -> Path:
    folder = DATA / f"{megabytes}mb"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        images = max(20, megabytes * 1000 // KB_PER_IMAGE)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "vision_results.synth",
                "--images",
                str(images),
                "--words-per-image",
                str(WORDS_PER_IMAGE),
                "--documents",
                "0",
                str(folder),
            ],
            check=True,
        )
        (folder / ".complete").touch()
    return folder


def measure(code: str, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, action="append", help="data set size (repeatable)")
    parser.add_argument("--processes", default="auto", help="'auto', or a number (0: threads)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for megabytes in args.mb or [300]:
            source = dataset(megabytes)
            floor = measure(FLOOR, str(source))
            run = measure(EXPORT, str(source), str(Path(tmp) / "out"), args.processes)
            floor_speed = floor["bytes"] / 1e6 / floor["seconds"]
            speed = run["bytes"] / 1e6 / run["seconds"]
            print(
                f"{run['bytes'] / 1e6:8.0f} MB  orjson.loads floor {floor_speed:6.1f} MB/s "
                f"rss {floor['rss_mb']:5.0f} MB | export (processes={args.processes}) "
                f"{speed:6.1f} MB/s = {speed / floor_speed:4.2f} x floor, "
                f"rss {run['rss_mb']:5.0f} MB + parser processes {run['child_rss_mb']:5.0f} MB each"
            )


if __name__ == "__main__":
    main()
