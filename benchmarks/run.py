"""Export speed and peak memory against floors and the usual alternatives, in one run.

    python benchmarks/run.py --images 2000                  # ~330 MB of shards
    python benchmarks/run.py --images 200 --images 2000     # also: is peak RSS flat?
    python benchmarks/run.py --images 20 --data /tmp/bench  # smoke run, seconds
    python benchmarks/run.py --images 2000 --repeat 3       # each method's best of 3

Data: the package's generator (image job only, 150 words per image), written
once to ``<data>/<images>img/`` (``.complete`` marks a finished set). Every
measurement runs in a fresh interpreter (``python -c``); its peak RSS is that of
its whole process tree (the interpreter and any process it starts), sampled
from /proc every 20 ms. The machine is shared and absolute times drift: compare
the ratios, which are measured in the same run on the same files. With
``--repeat N`` every method runs N times, in rounds (all methods, then all again),
and counts with its fastest run and its highest peak RSS: a floor slowed by a
neighbour's burst would flatter every ratio against it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS_PER_IMAGE = 150

# Every snippet gets argv = [source, dest] and prints one JSON line at the end.
HEAD = """
import gc, json, os, resource, sys, threading, time
from pathlib import Path
files = sorted(Path(sys.argv[1]).rglob("output-*.json"))
dest = Path(sys.argv[2])

def _tree_rss(pid):
    # This process and every descendant, in kB, from /proc (Linux).
    total, todo = 0, [pid]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/status") as status:
                total += next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    todo += [int(c) for c in children.read().split()]
        except (OSError, StopIteration):
            pass
    return total

_peak = [0]
def _sample():
    while True:
        _peak[0] = max(_peak[0], _tree_rss(os.getpid()))
        time.sleep(0.02)
threading.Thread(target=_sample, daemon=True).start()

def done(start, total, procs=1):
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    tree = max(_peak[0], _tree_rss(os.getpid())) / 1024
    print(json.dumps({"seconds": seconds, "bytes": total, "rss_mb": rss,
                      "child_rss_mb": child, "tree_rss_mb": max(tree, rss), "processes": procs}))
"""

READ = """
start = time.perf_counter()
done(start, sum(len(path.read_bytes()) for path in files))
"""

ORJSON = """
import orjson
if sys.argv[3] == "off":
    gc.disable()
start = time.perf_counter()
total = 0
for path in files:
    data = path.read_bytes()
    total += len(data)
    orjson.loads(data)
done(start, total)
"""

PANDAS = """
import pandas as pd
start = time.perf_counter()
labels, words = [], []
for path in files:
    with open(path, encoding="utf-8") as f:
        responses = json.load(f)["responses"]
    have = [r for r in responses if "labelAnnotations" in r]
    uri = [["context", "uri"]]
    labels.append(pd.json_normalize(have, record_path="labelAnnotations", meta=uri))
    pages = [{**page, "uri": r["context"]["uri"]} for r in responses
             for page in r.get("fullTextAnnotation", {}).get("pages", [])]
    frame = pd.json_normalize(pages, record_path=["blocks", "paragraphs", "words"], meta=["uri"])
    frame["text"] = frame["symbols"].map(lambda s: "".join(x["text"] for x in s))
    words.append(frame.drop(columns=["symbols"]))
dest.mkdir(parents=True, exist_ok=True)
pd.concat(labels, ignore_index=True).to_parquet(dest / "labels.parquet")
pd.concat(words, ignore_index=True).to_parquet(dest / "words.parquet")
done(start, sum(path.stat().st_size for path in files))
"""

DUCKDB = """
import duckdb
start = time.perf_counter()
biggest = max(path.stat().st_size for path in files)
glob = str(Path(sys.argv[1]) / "**" / "output-*.json")
dest.mkdir(parents=True, exist_ok=True)
con = duckdb.connect()
con.execute(f\"\"\"CREATE TEMP TABLE r AS SELECT unnest(responses) AS r FROM read_json(
    '{glob}', format='auto', maximum_object_size={2 * biggest + (1 << 20)})\"\"\")
con.execute(f\"\"\"COPY (SELECT r.context.uri AS uri, unnest(r.labelAnnotations, recursive := true)
    FROM r) TO '{dest / "labels.parquet"}' (FORMAT parquet)\"\"\")
con.execute(f\"\"\"COPY (
    WITH p AS (SELECT r.context.uri AS uri, unnest(r.fullTextAnnotation.pages) AS p FROM r),
    b AS (SELECT uri, unnest(p.blocks) AS b FROM p),
    g AS (SELECT uri, unnest(b.paragraphs) AS g FROM b),
    w AS (SELECT uri, unnest(g.words) AS w FROM g)
    SELECT uri, array_to_string(list_transform(w.symbols, lambda s: s.text), '') AS text,
        w.confidence, w.property.detectedLanguages AS languages,
        w.boundingBox.vertices AS vertices
    FROM w) TO '{dest / "words.parquet"}' (FORMAT parquet)\"\"\")
done(start, sum(path.stat().st_size for path in files))
"""

EXPORT = """
import vision_results as vr
options = json.loads(sys.argv[3])
report = vr.export(sys.argv[1], dest, progress=False, overwrite=True, **options)
done(time.perf_counter() - report.seconds, report.bytes_read, options.get("processes") or 1)
"""

METHODS: dict[str, tuple[str, list[str]]] = {
    "read bytes (floor)": (READ, []),
    "orjson.loads, GC on (floor)": (ORJSON, ["on"]),
    "orjson.loads, GC off (floor)": (ORJSON, ["off"]),
    "naive pandas -> Parquet": (PANDAS, []),
    "DuckDB read_json+unnest -> Parquet": (DUCKDB, []),
    "export, all tables (default: threads)": (EXPORT, ["{}"]),
    "export, all tables, processes=2": (EXPORT, ['{"processes": 2}']),
    "export, labels only": (EXPORT, ['{"tables": ["labels"]}']),
}
FLOOR = "orjson.loads, GC on (floor)"
DUCK = "DuckDB read_json+unnest -> Parquet"
NAIVE = "naive pandas -> Parquet"
EXPORTS = [name for name in METHODS if name.startswith("export")]
ALL_TABLES = "export, all tables (default: threads)"


@dataclass
class Result:
    images: int
    method: str
    seconds: float
    bytes: int
    rss_mb: float
    child_rss_mb: float
    tree_rss_mb: float
    processes: int

    @property
    def mb_s(self) -> float:
        return self.bytes / 1e6 / self.seconds

    @property
    def images_s(self) -> float:
        return self.images / self.seconds


def dataset(root: Path, images: int) -> Path:
    """The image job of `images` images under `root`, generated once (in a child
    process: a forked child starts its ru_maxrss at this process's RSS, so keep it small)."""
    folder = root / f"{images}img"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {images} images in {folder} ...", file=sys.stderr, flush=True)
        generate = [sys.executable, "-m", "vision_results.synth", "--images", str(images)]
        options = ["--documents", "0", "--words-per-image", str(WORDS_PER_IMAGE), "--seed", "0"]
        subprocess.run([*generate, *options, str(folder)], check=True, stdout=subprocess.DEVNULL)
        (folder / ".complete").touch()
    return folder


def measure(images: int, method: str, source: Path, dest: Path) -> Result:
    code, extra = METHODS[method]
    command = [sys.executable, "-c", HEAD + code, str(source), str(dest), *extra]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{method} failed:\n{out.stderr}")
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return Result(images=images, method=method, **found)


def best(runs: list[Result]) -> Result:
    """One method's runs as one: the fastest time, the highest peak RSS."""
    fastest = min(runs, key=lambda r: r.seconds)
    return Result(
        images=fastest.images,
        method=fastest.method,
        seconds=fastest.seconds,
        bytes=fastest.bytes,
        rss_mb=max(r.rss_mb for r in runs),
        child_rss_mb=max(r.child_rss_mb for r in runs),
        tree_rss_mb=max(r.tree_rss_mb for r in runs),
        processes=fastest.processes,
    )


def table(results: list[Result]) -> str:
    lines = [
        "| images | method | MB | MB/s | images/s | peak RSS, process tree (MB) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.images} | {r.method} | {r.bytes / 1e6:.0f} | {r.mb_s:.1f} | "
            f"{r.images_s:.0f} | {r.tree_rss_mb:.0f} |"
        )
    return "\n".join(lines)


def ratios(results: list[Result]) -> str:
    """The issue's ratios, for the methods that ran (see --only)."""
    lines = []
    sizes = sorted({r.images for r in results})
    against = {FLOOR: "orjson.loads (GC on)", DUCK: "DuckDB", NAIVE: "naive pandas"}
    for images in sizes:
        by = {r.method: r for r in results if r.images == images}
        for name in (e for e in EXPORTS if e in by):
            speed = by[name].mb_s
            parts = [
                f"{speed / by[m].mb_s:.2f}x {label}" for m, label in against.items() if m in by
            ]
            if name != ALL_TABLES and ALL_TABLES in by:
                parts.append(f"{speed / by[ALL_TABLES].mb_s:.2f}x all tables")
            lines.append(f"{images} images, {name}: " + ", ".join(parts))
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for name in EXPORTS:
            rss = {r.images: r.tree_rss_mb for r in results if r.method == name}
            if small in rss and large in rss:
                lines.append(
                    f"peak RSS flatness, {name}: {rss[small]:.0f} MB at {small} images, "
                    f"{rss[large]:.0f} MB at {large} images ({large / small:.0f}x input): "
                    f"ratio {rss[large] / rss[small]:.2f}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--images", type=int, action="append", help="images (repeatable)")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data", help="data folder")
    parser.add_argument("--keep", action="store_true", help="keep outputs in <data>/out-*")
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="run only the methods whose name contains TEXT (repeatable), e.g. --only floor "
        "--only export for a large input the alternatives would take long on",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="runs of each method, in rounds"
    )
    args = parser.parse_args(argv)
    methods = [m for m in METHODS if not args.only or any(text in m for text in args.only)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for images in args.images or [2000]:
            source = dataset(args.data, images)
            out = args.data / f"out-{images}img" if args.keep else Path(tmp) / f"{images}img"
            runs: dict[str, list[Result]] = {method: [] for method in methods}
            for round_ in range(1, args.repeat + 1):
                for number, method in enumerate(methods):
                    note = f" (round {round_} of {args.repeat})" if args.repeat > 1 else ""
                    print(f"{images} images: {method}{note} ...", file=sys.stderr, flush=True)
                    shutil.rmtree(out / str(number), ignore_errors=True)  # the last run's stays
                    runs[method].append(measure(images, method, source, out / str(number)))
            results += [best(found) for found in runs.values()]
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    print(table(results))
    print()
    print(ratios(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
