"""Deterministic generator of realistic Cloud Vision batch output shards.

Writes what ``images:asyncBatchAnnotate`` and ``files:asyncBatchAnnotate`` leave
in a bucket, so readers can be tested and benchmarked without the API::

    python -m vision_results.synth --images 2000 DEST [--seed S] [--defaults] ...

Image responses carry labels and text, and by seeded chance every other kind of
annotation (faces, landmarks, logos, objects, safe search, colours, crop hints,
web detection, product search); a few are errors or empty. PDF file jobs give one
text response per page.

Each response is built once, canonically, as the service's own proto3 JSON: enum
names, zero values left out, integral floats written as ``1``. The plain form
dumps that as is; ``--defaults`` walks it with a small schema to add every
default and number the enums, as a client library's ``to_json`` does, so both
forms carry the same information by construction.
"""

from __future__ import annotations

import argparse
import gc
import random
from collections.abc import Iterator
from pathlib import Path

import orjson

from vision_results.synth._scene import Scene, compact
from vision_results.synth._schema import with_defaults
from vision_results.synth._text import PDF_PAGE, SCENARIOS, Json, Layout, labels

__all__ = [
    "SAMPLE_IMAGES",
    "SAMPLE_SEED",
    "image_response",
    "main",
    "with_defaults",
    "write_sample",
]

SAMPLE_IMAGES = 60
SAMPLE_SEED = 7
BUCKET = "gs://synth-bucket"

# fmt: off
_ERRORS = ((3, "Bad image data."),
           (14, "We can not access the URL currently. Please download the content and pass it in."))
# fmt: on


def _image_response(seed: int, index: int, words_per_image: int) -> Json:
    """Response `index` (1-based) of the image job: ~3% errors, ~3% empty, the rest text.

    The kinds besides text come from a random stream of their own, so the text, the
    labels and which responses fail are as they were before those kinds existed.
    """
    rng = random.Random(f"{seed}/image/{index}")
    context = {"uri": f"{BUCKET}/images/img-{index:06d}.jpg"}
    roll = rng.random()
    if roll < 0.03:
        code, message = rng.choice(_ERRORS)
        return {"error": {"code": code, "message": message}, "context": context}
    if roll < 0.06:
        return {"context": context}
    langs = rng.choice(SCENARIOS)
    layout = Layout(rng, rng.randint(900, 1800), pdf=False, word_conf=rng.random() < 0.4)
    n_words = max(1, round(words_per_image * rng.uniform(0.7, 1.3)))
    page, extent = layout.page(langs, n_words, (16, 40), 0)
    text = "".join(layout.text)
    whole = {"locale": langs[0], "description": text, "boundingPoly": layout.box(*extent)}
    found = labels(rng)
    scene = Scene(random.Random(f"{seed}/image/{index}/scene"), page["width"], page["height"])
    scene.label_properties(found)
    return compact(  # in proto order, as the service writes them
        faceAnnotations=scene.faces(),
        landmarkAnnotations=scene.landmarks(),
        logoAnnotations=scene.logos(),
        labelAnnotations=found,
        localizedObjectAnnotations=scene.objects(),
        textAnnotations=[whole, *layout.words],
        fullTextAnnotation={"pages": [page], "text": text},
        safeSearchAnnotation=scene.safe_search(),
        imagePropertiesAnnotation=scene.colors(),
        cropHintsAnnotation=scene.crop_hints(),
        webDetection=scene.web(),
        productSearchResults=scene.products(),
        context=context,
    )


def image_response(seed: int, index: int, *, words_per_image: int = 40) -> Json:
    """Response `index` (1-based) of the image job of `seed`, as :func:`write_sample`
    writes it; its ``context`` names the generator's own bucket."""
    return _image_response(seed, index, words_per_image)


def _pdf_response(seed: int, doc: int, page_number: int, langs: tuple[str, ...]) -> Json:
    """One PDF page, or for ~5% of pages a blank one (context alone)."""
    rng = random.Random(f"{seed}/doc/{doc}/{page_number}")
    context = {"uri": f"{BUCKET}/files/doc-{doc}.pdf", "pageNumber": page_number}
    if rng.random() < 0.05:
        return {"context": context}
    layout = Layout(rng, PDF_PAGE[0], pdf=True, word_conf=True)
    page, _ = layout.page(langs, rng.randint(60, 200), (9, 12), PDF_PAGE[1])
    return {
        "fullTextAnnotation": {"pages": [page], "text": "".join(layout.text)},
        "context": context,
    }


def _ranges(count: int, batch_size: int) -> Iterator[tuple[int, int]]:
    for first in range(1, count + 1, batch_size):
        yield first, min(first + batch_size - 1, count)


def _shards(
    images: int, seed: int, batch_size: int, documents: int, pdf_pages: int, words_per_image: int
) -> Iterator[tuple[str, Json, str]]:
    """Every shard in order: its path under DEST, its content, its message type."""
    for first, last in _ranges(images, batch_size):
        responses = [_image_response(seed, i, words_per_image) for i in range(first, last + 1)]
        name = f"images/output-{first}-to-{last}.json"
        yield name, {"responses": responses}, "BatchAnnotateImagesResponse"
    for doc in range(1, documents + 1):
        source = {"gcsSource": {"uri": f"{BUCKET}/files/doc-{doc}.pdf"}}
        langs = random.Random(f"{seed}/doc/{doc}").choice(SCENARIOS)
        for first, last in _ranges(pdf_pages, batch_size):
            pages = [_pdf_response(seed, doc, n, langs) for n in range(first, last + 1)]
            shard = {"inputConfig": {**source, "mimeType": "application/pdf"}, "responses": pages}
            yield f"files/doc-{doc}/output-{first}-to-{last}.json", shard, "AnnotateFileResponse"


def write_sample(
    dest: Path,
    *,
    images: int,
    seed: int = 0,
    batch_size: int = 20,
    documents: int = 2,
    pdf_pages: int = 5,
    defaults: bool = False,
    words_per_image: int = 40,
) -> list[Path]:
    """Write the shards of one image job and of `documents` PDF jobs under `dest`.

    Image k and page n of document d depend only on (seed, k) and (seed, d, n) (and
    words_per_image), so a larger run starts with the same images. Files of an earlier
    run are overwritten where the names match and otherwise left alone. Returns the
    written paths.
    """
    if not 1 <= batch_size <= 100:
        raise ValueError(f"batch size must be 1..100 as in the API, not {batch_size}")
    if min(images, documents, pdf_pages, words_per_image) < 0:
        raise ValueError("counts must not be negative")
    written = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of small acyclic dicts would set it off again and again: 2x slower
    try:
        for name, shard, type_name in _shards(
            images, seed, batch_size, documents, pdf_pages, words_per_image
        ):
            path = dest / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(orjson.dumps(with_defaults(shard, type_name) if defaults else shard))
            written.append(path)
    finally:
        if gc_was_enabled:
            gc.enable()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser("python -m vision_results.synth", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", type=int, metavar="N", help="images in the image job")
    source.add_argument("--sample", action="store_true", help="the bundled sample set")
    parser.add_argument("dest", type=Path, metavar="DEST")
    parser.add_argument("--seed", type=int, metavar="S", help="default 0; --sample has its own")
    parser.add_argument("--batch-size", type=int, default=20, metavar="N", help="1..100")
    parser.add_argument("--documents", type=int, default=2, metavar="D", help="PDF file jobs")
    parser.add_argument("--pdf-pages", type=int, default=5, metavar="P", help="pages per PDF")
    parser.add_argument("--defaults", action="store_true", help="all defaults, enums as ints")
    parser.add_argument("--words-per-image", type=int, default=40, metavar="W", help="mean")
    args = parser.parse_args(argv)
    if args.sample and args.seed is not None:
        parser.error("--sample fixes the seed")
    options = {k: v for k, v in vars(args).items() if k not in ("sample", "dest", "seed")}
    if args.sample:
        options["images"] = SAMPLE_IMAGES
    seed = SAMPLE_SEED if args.sample else args.seed or 0
    try:
        written = write_sample(args.dest, seed=seed, **options)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"wrote {len(written)} shards under {args.dest}")
    return 0
