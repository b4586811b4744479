"""Shared fixtures: a real Cloud Storage emulator (fake-gcs-server) and a fault proxy.

The emulator tests fail, never skip, when the emulator is missing: it comes with
the test extras (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from tests.fault_proxy import FaultProxy
from tests.gcs_server import binary_path, make_client, run_gcs_server

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
