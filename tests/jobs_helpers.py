"""Small helpers shared by the job tests (the ``env`` fixture lives in conftest.py)."""

from __future__ import annotations

from google.cloud import storage


def no_sleep(seconds: float) -> None:
    """Polling in tests does not wait: the stand-in moves on per poll, not per second."""


def images(bucket: str, count: int) -> list[str]:
    return [f"gs://{bucket}/pics/img-{n:05d}.jpg" for n in range(count)]


def make_bucket(client: storage.Client, name: str) -> str:
    client.create_bucket(name)
    return name
