"""Small helpers shared by the job tests (the ``env`` fixture lives in conftest.py)."""

from __future__ import annotations

import io
from typing import Any

from google.api_core.operation import Operation
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from google.cloud import storage
from PIL import Image, ImageDraw

from tests.vision_responses import FAST_POLLING

PAGE_SIZE = (64, 48)  # pixels: tiny pages keep the documents and the tests fast


def no_sleep(seconds: float) -> None:
    """Polling in tests does not wait: the stand-in moves on per poll, not per second."""


def images(bucket: str, count: int) -> list[str]:
    return [f"gs://{bucket}/pics/img-{n:05d}.jpg" for n in range(count)]


def wait(operation: Operation, **kwargs: Any) -> Any:
    """An operation's result through the official client, polled every few milliseconds."""
    return operation.result(timeout=10, polling=FAST_POLLING, **kwargs)  # type: ignore[no-untyped-call]


def anonymous_session() -> AuthorizedSession:
    """An HTTP session of google-auth's, for the surfaces the Python client lacks."""
    return AuthorizedSession(AnonymousCredentials())  # type: ignore[no-untyped-call]


def make_bucket(client: storage.Client, name: str) -> str:
    client.create_bucket(name)
    return name


def _pages(count: int) -> list[Image.Image]:
    """`count` small grey pages, each with its page number drawn on it (which also
    keeps GIF frames apart: Pillow merges identical ones)."""
    if count < 1:
        raise ValueError(f"a document has at least one page, not {count}")
    pages = []
    for number in range(1, count + 1):
        page = Image.new("L", PAGE_SIZE, 255)
        ImageDraw.Draw(page).text((8, 16), f"p{number}", fill=0)
        pages.append(page)
    return pages


def _document(count: int, kind: str, **options: object) -> bytes:
    first, *rest = _pages(count)
    buffer = io.BytesIO()
    first.save(buffer, kind, save_all=True, append_images=rest, **options)
    return buffer.getvalue()


def pdf_bytes(pages: int) -> bytes:
    """A real PDF of `pages` pages, made by Pillow."""
    return _document(pages, "PDF")


def tiff_bytes(pages: int) -> bytes:
    """A real multi-page TIFF of `pages` pages, made by Pillow."""
    return _document(pages, "TIFF", compression="tiff_deflate")


def gif_bytes(frames: int) -> bytes:
    """A real GIF of `frames` frames, made by Pillow."""
    return _document(frames, "GIF")
