"""vr.draw: where the picture comes from. Only the object asked for is downloaded
from gs://; other URLs are never fetched, local paths are read; every failure says
how to pass the picture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from google.cloud import storage

import vision_results as vr
from tests.conftest import download_paths
from tests.draw_helpers import (
    PLAIN,
    URI,
    WORD,
    at,
    blank,
    png,
    response,
    tables_of,
)
from tests.fault_proxy import FaultProxy
from tests.gcs_server import upload_bytes
from vision_results.draw import PALETTE, ImageError, draw


def test_a_gs_uri_downloads_that_one_object_through_the_emulator(
    gcs_client: storage.Client,
    fault_proxy: FaultProxy,
    bucket_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grey = (200, 200, 200)
    upload_bytes(
        gcs_client,
        bucket_name,
        {"pics/0.png": png(blank(400, 300, grey)), "pics/1.png": png(blank(400, 300))},
    )
    uri = f"gs://{bucket_name}/pics/0.png"
    tables = tables_of(response(400, 300, WORD), uri=uri)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fault_proxy.url)  # storage_client() honours it

    out = draw(tables, uri, **PLAIN)

    assert at(out, 10, 10) == grey and at(out, 150, 100) == PALETTE["words"]
    assert download_paths(fault_proxy, bucket_name) == ["pics/0.png"]
    # Nothing listed, nothing else read. (google-cloud-storage may also read the
    # bucket's metadata in the background: that is the client's own doing.)
    others = [s.path for s in fault_proxy.requests() if "/download/" not in s.path]
    assert all(p.startswith(f"/storage/v1/b/{bucket_name}?") for p in others), others


def test_a_missing_gs_object_says_how_to_pass_the_picture(
    gcs_client: storage.Client, bucket_name: str
) -> None:
    upload_bytes(gcs_client, bucket_name, {"other.png": png(blank(4, 4))})
    uri = f"gs://{bucket_name}/gone.png"
    with pytest.raises(ImageError, match=r"(?s)download failed: .*404.*image=.*images="):
        draw(tables_of(response(400, 300, WORD), uri=uri), uri, client=gcs_client)


def test_an_http_uri_is_not_fetched_but_can_be_mapped() -> None:
    uri = "https://example.com/cat.jpg"
    tables = tables_of(response(400, 300, WORD), uri=uri)
    with pytest.raises(ImageError, match=r"only local files and gs:// .* image=.*images=\{uri"):
        draw(tables, uri)

    out = draw(tables, uri, images={uri: png(blank(400, 300))}, **PLAIN)
    assert at(out, 150, 100) == PALETTE["words"]


def test_local_paths_as_uri_as_image_and_in_images(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(png(blank(400, 300, (1, 2, 3))))
    tables = tables_of(response(400, 300, WORD), uri=str(path))
    for options in ({}, {"image": path}, {"image": str(path)}, {"images": {str(path): path}}):
        out = draw(tables, str(path), **PLAIN, **options)
        assert at(out, 10, 10) == (1, 2, 3) and at(out, 150, 100) == PALETTE["words"]

    missing = str(tmp_path / "missing.png")
    with pytest.raises(
        ImageError, match=r"missing\.png: no such file\. Pass the picture as image="
    ):
        draw(tables_of(response(400, 300, WORD), uri=missing), missing)
    with pytest.raises(ImageError, match="not an image"):
        draw(tables, str(path), image=b"not a picture")


def test_without_pillow_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(vr.VisionResultsError, match=r"pip install 'vision-results\[notebook\]'"):
        draw(tables_of(response(400, 300, WORD)), URI)
