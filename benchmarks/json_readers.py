"""pyarrow.json against Polars' NDJSON reader, as the export's fast decoder would use
them: the same shards, the same explicit schema (every field the 23 tables read).

    pip install polars                                 # not a dependency of the package
    python benchmarks/json_readers.py --images 2000    # run.py's data set, ~330 MB

Each reader runs in a fresh interpreter, one shard per call (a shard is one JSON
line), on one thread and on two; it prints MB/s and the peak RSS of the process,
then whether Polars' values (cast to the same Arrow type) equal pyarrow's for the
first ``--compare`` shards. The data set is ``run.py``'s (same generator, same cache).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from run import ROOT, dataset

CODE = """
import io, resource, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import pyarrow as pa, pyarrow.json as pj
from vision_results.decode import _MIN_BLOCK, _parse_options
from vision_results.tables import TABLE_NAMES, fields_for

reader, threads, compare = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
files = sorted(Path(sys.argv[1]).rglob("output-*.json"))
options = _parse_options(fields_for(frozenset(TABLE_NAMES)), False)

def arrow(data):
    read = pj.ReadOptions(block_size=max(_MIN_BLOCK, len(data) + 1), use_threads=False)
    table = pj.read_json(pa.BufferReader(data), read_options=read, parse_options=options)
    return table.column("responses").combine_chunks()

if reader == "polars" or compare:
    import polars as pl
    schema = pl.from_arrow(options.explicit_schema.empty_table()).schema

def polars(data):
    table = pl.read_ndjson(io.BytesIO(data), schema=schema).to_arrow()
    return table.column("responses").combine_chunks()

read = arrow if reader == "pyarrow" else polars

def one(path):
    data = path.read_bytes()
    read(data)
    return len(data)

start = time.perf_counter()
with ThreadPoolExecutor(threads) as pool:
    total = sum(pool.map(one, files))
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"| {reader} | {threads} | {total / 1e6:.0f} | {total / 1e6 / seconds:.1f} | {rss:.0f} |")
if compare:
    same = 0
    for path in files[:compare]:
        data = path.read_bytes()
        ours = arrow(data)
        same += ours.equals(polars(data).cast(ours.type))
    print(f"Polars equals pyarrow on {same} of {min(compare, len(files))} shards")
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="images in the data set")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data", help="data folder")
    parser.add_argument("--compare", type=int, default=20, help="shards compared, value for value")
    args = parser.parse_args(argv)
    source = dataset(args.data, args.images)
    print("| reader | threads | MB | MB/s | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    runs = [("pyarrow", 1), ("polars", 1), ("pyarrow", 2), ("polars", 2)]
    for number, (reader, threads) in enumerate(runs):
        compare = args.compare if number == len(runs) - 1 else 0
        command = [sys.executable, "-c", CODE, str(source), reader, str(threads), str(compare)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{reader} failed:\n{done.stderr}")
        print(done.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
