"""What the generator finds in an image besides its text: faces, landmarks, logos,
objects, safe search, colours, crop hints, web and product search results.

Each kind is present by seeded chance, built in the service's proto3 JSON form: enum
names, zero values (UNKNOWN, 0, "", []) left out, integral floats written as ``1``.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

from vision_results.synth._schema import LANDMARK_TYPES, LIKELIHOOD
from vision_results.synth._text import Json, num, vertex

# Chance of each kind per image with text (and of label properties).
CHANCE = {
    **{"faces": 0.35, "landmarks": 0.3, "logos": 0.3, "label_properties": 0.2, "objects": 0.45},
    **{"safe_search": 0.6, "colors": 0.5, "crop_hints": 0.4, "web": 0.35, "products": 0.2},
}

# Where each landmark type (by number) sits in the face box, x and y as fractions of
# its side, and its depth z per 100 pixels of side.
# fmt: off
_FACE_MAP = (
    (0, 0, 0), (.30, .38, 0), (.70, .38, 0), (.14, .28, 6), (.43, .26, -6), (.57, .26, -6),
    (.86, .28, 6), (.50, .37, -7), (.50, .62, -20), (.50, .75, -9), (.50, .88, -5), (.32, .80, 3),
    (.68, .80, 3), (.50, .81, -5), (.61, .66, -1), (.39, .66, -1), (.50, .69, -9), (.30, .35, -2),
    (.39, .39, 1), (.30, .41, 0), (.21, .39, 3), (.70, .35, -2), (.79, .39, 3), (.70, .41, 0),
    (.61, .39, 1), (.29, .22, -5), (.71, .22, -5), (-.02, .58, 45), (1.02, .58, 45),
    (.30, .38, -1), (.70, .38, -1), (.50, .26, -7), (.50, 1.02, 3), (.06, .82, 30),
    (.94, .82, 30), (.24, .60, -2), (.76, .60, -2),
)
# The 34 landmarks of a face: today with the cheek centres, in older output (as in the
# google-cloud-php fixture) with the pupils instead, each after its eye.
_LANDMARKS_NOW = (*range(1, 29), *range(31, 37))
_LANDMARKS_OLD = (*range(1, 21), 29, *range(21, 25), 30, *range(25, 29), *range(31, 35))
_PLACES = (("Eiffel Tower", 48.858461, 2.294351), ("Tower Bridge", 51.505456, -0.075356),
           ("Golden Gate Bridge", 37.819929, -122.478255), ("Tokyo Tower", 35.658581, 139.745433),
           ("Sydney Opera House", -33.856784, 151.215297), ("Western Wall", 31.776685, 35.234491),
           ("Mont-Saint-Michel", 48.636063, -1.511457), ("Statue of Liberty", 40.689247, -74.0445))
_LOGOS = ("Google", "Coca-Cola", "Nike", "Starbucks", "Adidas", "Shell", "IKEA", "Lufthansa")
_OBJECTS = ("Person", "Car", "Dog", "Cat", "Chair", "Bottle", "Shoe", "Dress", "Hat", "Laptop",
            "Book", "Building", "Packaged goods", "Table")
_ENTITIES = ("Paper", "Invoice", "Receipt", "Font", "Document", "Tourism", "Architecture",
             "Brand", "Product", "Street fashion", "Landmark", "Cat")
_SITES = ("www.example.com", "commons.wikimedia.org", "shop.example.fr", "news.example.co.jp",
          "blog.example.org")
_PRODUCTS = (("shoe", "Trail running shoe", "apparel-v2"), ("dress", "Summer dress", "apparel-v2"),
             ("lamp", "Desk lamp", "homegoods-v2"), ("chair", "Oak chair", "homegoods-v2"),
             ("bear", "Teddy bear", "toys-v2"), ("flakes", "Corn flakes 500 g", "packagedgoods-v1"))
_PRODUCT_LABELS = (("color", "red"), ("color", "blue"), ("style", "casual"), ("brand", "acme"),
                   ("size", "M"))
# fmt: on


def signed(x: float) -> float | int:
    """`num` for values of either sign."""
    return -num(-x) if x < 0 else num(x)


def compact(**fields: Any) -> Json:
    """A message with its zero and empty fields left out; sub-messages stay, even empty."""
    return {k: v for k, v in fields.items() if v or isinstance(v, dict)}


def mid(name: str) -> str:
    return f"/m/0{zlib.crc32(name.encode()):08x}"[:9]


def _rect(x0: float, y0: float, x1: float, y1: float, key: str = "vertices") -> Json:
    return {key: [vertex(x0, y0), vertex(x1, y0), vertex(x1, y1), vertex(x0, y1)]}


class Scene:
    """The kinds of one image of `width` x `height` pixels, drawn from `rng` in a fixed
    order; each method gives None or [] where the image has no such annotation."""

    def __init__(self, rng: random.Random, width: int, height: int) -> None:
        self.rng, self.width, self.height = rng, width, height

    def has(self, kind: str) -> bool:
        return self.rng.random() < CHANCE[kind]

    def box(self, low: int, high: int, square: bool = False) -> tuple[int, int, int, int]:
        """A pixel rectangle with sides in low..high, inside the image; x0 or y0 may be 0."""
        rng = self.rng
        w = rng.randint(low, high)
        h = w if square else rng.randint(low, high)
        x0 = 0 if rng.random() < 0.1 else rng.randint(0, self.width - w)
        y0 = 0 if rng.random() < 0.1 else rng.randint(0, self.height - h)
        return x0, y0, x0 + w, y0 + h

    def normalized_box(self) -> Json:
        rng = self.rng
        x0, y0 = (0.0 if rng.random() < 0.15 else rng.uniform(0, 0.7) for _ in "xy")
        x1, y1 = rng.uniform(x0 + 0.1, 1), rng.uniform(y0 + 0.1, 1)
        return _rect(num(x0), num(y0), num(x1), num(y1), "normalizedVertices")

    def score(self, low: float = 0.5, high: float = 0.99) -> float | int:
        return num(self.rng.uniform(low, high))

    def likelihood(self, *weights: float) -> str | None:
        """A Likelihood name by weight, UNKNOWN first (None: left out)."""
        name = self.rng.choices(LIKELIHOOD, weights)[0]
        return None if name == "UNKNOWN" else name

    def faces(self) -> list[Json]:
        return [self.face() for _ in range(self.rng.randint(1, 3))] if self.has("faces") else []

    def face(self) -> Json:
        rng = self.rng
        x0, y0, x1, y1 = self.box(50, min(self.width, self.height) // 3, square=True)
        side, pad = x1 - x0, (x1 - x0) // 10
        right, bottom = min(self.width - 1, x1 + pad), min(self.height - 1, y1 + pad)
        outer = (max(0, x0 - pad), max(0, y0 - side // 4), right, bottom)
        roll, pan, tilt = rng.uniform(-25, 25), rng.uniform(-40, 40), rng.uniform(-20, 20)
        landmarks = []
        for t in _LANDMARKS_OLD if rng.random() < 0.3 else _LANDMARKS_NOW:
            u, v, depth = _FACE_MAP[t]
            ideal = (
                x0 + side * (u + pan / 400),
                y0 + side * (v + tilt / 400),
                side * (depth + pan * (u - 0.5) / 2) / 100,
            )
            x, y, z = (signed(c + rng.uniform(-side, side) / 100) for c in ideal)
            landmarks.append({"type": LANDMARK_TYPES[t], "position": compact(x=x, y=y, z=z)})
        rare = (0.02, 0.9, 0.06, 0.02, 0, 0)
        return compact(
            boundingPoly=_rect(*outer),
            fdBoundingPoly=_rect(x0, y0, x1, y1),
            landmarks=landmarks,
            rollAngle=signed(roll),
            panAngle=signed(pan),
            tiltAngle=signed(tilt),
            detectionConfidence=self.score(0.4, 0.99),
            landmarkingConfidence=self.score(0.1, 0.9),
            joyLikelihood=self.likelihood(0.02, 0.4, 0.1, 0.1, 0.15, 0.23),
            sorrowLikelihood=self.likelihood(*rare),
            angerLikelihood=self.likelihood(*rare),
            surpriseLikelihood=self.likelihood(0.02, 0.8, 0.1, 0.08, 0, 0),
            underExposedLikelihood=self.likelihood(0.05, 0.85, 0.05, 0.05, 0, 0),
            blurredLikelihood=self.likelihood(0.02, 0.8, 0.1, 0.05, 0.03, 0),
            headwearLikelihood=self.likelihood(0.02, 0.7, 0.1, 0.08, 0.05, 0.05),
        )

    def properties(self, pool: tuple[str, ...]) -> list[Json]:
        """1-2 Property: a name and a value, a uint64Value (a string) or both."""
        rng, out = self.rng, []
        for name in rng.sample(pool, rng.randint(1, 2)):
            if name in ("kg_rank", "knowledge_id"):  # numbers alone, some beyond 2**53
                out.append({"name": name, "uint64Value": str(rng.randrange(1, 2**64))})
            elif name in ("built", "height_m"):
                n = str(rng.randint(10, 2020))
                out.append({"name": name, "value": n, "uint64Value": n})
            else:
                out.append({"name": name, "value": rng.choice(("France", "Japan", "ica", "en"))})
        return out

    def label_properties(self, labels: list[Json]) -> None:
        """Give one or two of the labels properties, on a fifth of images."""
        if self.has("label_properties"):
            for label in self.rng.sample(labels, min(len(labels), self.rng.randint(1, 2))):
                label["properties"] = self.properties(("source", "kg_rank"))

    def landmarks(self) -> list[Json]:
        """Places with one location (two: scene and camera; or none), some with properties."""
        if not self.has("landmarks"):
            return []
        out, rng = [], self.rng
        for name, lat, lng in rng.sample(_PLACES, rng.randint(1, 2)):
            places = [(lat, lng)][: rng.choices((0, 1, 2), (0.15, 0.7, 0.15))[0]]
            if len(places) == 1 and rng.random() < 0.2:
                places.append((lat + rng.uniform(-0.01, 0.01), lng + rng.uniform(-0.01, 0.01)))
            locations = [
                {"latLng": compact(latitude=signed(a), longitude=signed(b))} for a, b in places
            ]
            props = (
                self.properties(("country", "built", "knowledge_id")) if rng.random() < 0.3 else []
            )
            out.append(
                compact(
                    mid=mid(name),
                    description=name,
                    score=self.score(0.3, 0.95),
                    boundingPoly=_rect(*self.box(80, 500)),
                    locations=locations,
                    properties=props,
                )
            )
        return out

    def logos(self) -> list[Json]:
        if not self.has("logos"):
            return []
        return [
            {
                "mid": mid(name),
                "description": name,
                "score": self.score(0.3, 0.95),
                "boundingPoly": _rect(*self.box(40, 300)),
            }
            for name in self.rng.sample(_LOGOS, self.rng.randint(1, 2))
        ]

    def objects(self) -> list[Json]:
        """Localized objects, by descending score."""
        if not self.has("objects"):
            return []
        names = self.rng.sample(_OBJECTS, self.rng.randint(1, 5))
        scores = sorted((self.score() for _ in names), reverse=True)
        return [
            {
                "mid": mid(name),
                "languageCode": "en",
                "name": name,
                "score": score,
                "boundingPoly": self.normalized_box(),
            }
            for name, score in zip(names, scores, strict=True)
        ]

    def safe_search(self) -> Json | None:
        if not self.has("safe_search"):
            return None
        low, mid_ = (0.03, 0.8, 0.12, 0.05, 0, 0), (0.03, 0.4, 0.3, 0.2, 0.05, 0.02)
        return compact(
            adult=self.likelihood(*low),
            spoof=self.likelihood(*mid_),
            medical=self.likelihood(*low),
            violence=self.likelihood(*low),
            racy=self.likelihood(*mid_),
        )

    def colors(self) -> Json | None:
        """Dominant colours: components 0..255 (some 0, left out; a few not whole), alpha
        (a FloatValue, present only when set) on some."""
        if not self.has("colors"):
            return None
        rng, colors = self.rng, []
        scores = sorted((rng.uniform(0.01, 0.3) for _ in range(rng.randint(3, 10))), reverse=True)
        for score in scores:
            rgb: list[float] = [0 if rng.random() < 0.07 else rng.randint(1, 255) for _ in "rgb"]
            if rng.random() < 0.1:
                rgb[rng.randrange(3)] = num(rng.uniform(1, 255))
            color = compact(red=rgb[0], green=rgb[1], blue=rgb[2])
            if rng.random() < 0.15:
                color["alpha"] = 1 if rng.random() < 0.5 else num(rng.uniform(0.2, 1))
            info = {"color": color, "score": num(score), "pixelFraction": self.score(0.001, 0.4)}
            colors.append(info)
        return {"dominantColors": {"colors": colors}}

    def crop_hints(self) -> Json | None:
        """Crop hints as the service gives them: mostly from the top-left corner ({})."""
        if not self.has("crop_hints"):
            return None
        rng, w, h, hints = self.rng, self.width - 1, self.height - 1, []
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.5:  # full width, a band of the height
                y0 = 0 if rng.random() < 0.5 else rng.randint(1, h // 4)
                box = _rect(0, y0, w, rng.randint(y0 + h // 2, h))
            else:  # a square
                side = min(w, h)
                x0 = 0 if rng.random() < 0.6 else rng.randint(1, w - side + 1)
                box = _rect(x0, 0, x0 + side - 1, side)
            fraction = 1 if rng.random() < 0.6 else self.score(0.5, 1)
            hints.append(
                {
                    "boundingPoly": box,
                    "confidence": self.score(0.3, 0.9),
                    "importanceFraction": fraction,
                }
            )
        return {"cropHints": hints}

    def web_images(self, most: int) -> list[Json]:
        rng = self.rng
        images = []
        for _ in range(rng.randint(0, most)):
            url = f"https://{rng.choice(_SITES)}/img/{rng.getrandbits(32):08x}.jpg"
            images.append(
                {"url": url, "score": self.score(0.1, 1)} if rng.random() < 0.3 else {"url": url}
            )
        return images

    def web(self) -> Json | None:
        """Web entities (some without description), matching images and pages, a best guess."""
        if not self.has("web"):
            return None
        rng, entities, pages = self.rng, [], []
        for _ in range(rng.randint(1, 6)):
            name = rng.choice(_ENTITIES)
            entity_id = mid(name) if rng.random() < 0.7 else f"/g/11{rng.getrandbits(32):08x}"
            description = name if rng.random() < 0.75 else ""
            entities.append(
                compact(entityId=entity_id, score=self.score(0.05, 1.6), description=description)
            )
        entities.sort(key=lambda e: -e["score"])
        for _ in range(rng.randint(0, 3)):
            title = rng.choice(_ENTITIES)
            title = f"<b>{title}</b> - Example" if rng.random() < 0.5 else f"{title} | Example"
            url = f"https://{rng.choice(_SITES)}/page/{rng.getrandbits(24):06x}.html"
            score = self.score(0.1, 1) if rng.random() < 0.3 else 0
            full, partial = self.web_images(2), self.web_images(2)
            pages.append(
                compact(
                    url=url,
                    score=score,
                    pageTitle=title,
                    fullMatchingImages=full,
                    partialMatchingImages=partial,
                )
            )
        return compact(
            webEntities=entities,
            fullMatchingImages=self.web_images(3),
            partialMatchingImages=self.web_images(3),
            pagesWithMatchingImages=pages,
            visuallySimilarImages=self.web_images(6),
            bestGuessLabels=[{"label": rng.choice(_ENTITIES).lower(), "languageCode": "en"}],
        )

    def product_results(self, most: int) -> list[Json]:
        rng, out = self.rng, list[Json]()
        for item, display, category in rng.sample(_PRODUCTS, rng.randint(1, most)):
            name = f"projects/p/locations/us-west1/products/{item}-{rng.randint(1, 999)}"
            labels = [
                {"key": k, "value": v} for k, v in rng.sample(_PRODUCT_LABELS, rng.randint(0, 2))
            ]
            description = (
                f"{display}, sold since {rng.randint(2015, 2025)}" if rng.random() < 0.5 else ""
            )
            product = compact(
                name=name,
                displayName=display,
                description=description,
                productCategory=category,
                productLabels=labels,
            )
            image = f"{name}/referenceImages/img-{rng.randint(1, 5)}"
            out.append({"product": product, "score": self.score(0.2, 0.95), "image": image})
        out.sort(key=lambda r: -r["score"])
        return out

    def products(self) -> Json | None:
        """Product search: results, and on most images results grouped by object found."""
        if not self.has("products"):
            return None
        rng, groups = self.rng, []
        month, day, hour, minute, second = (rng.randint(1, n) for n in (12, 28, 23, 59, 59))
        millis = f".{rng.randint(0, 999):03d}" if rng.random() < 0.3 else ""
        index_time = f"2026-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{millis}Z"
        for _ in range(rng.randint(1, 2) if rng.random() < 0.6 else 0):
            names = rng.sample(_OBJECTS, rng.randint(1, 2))
            objects = [
                {"mid": mid(n), "languageCode": "en", "name": n, "score": self.score()}
                for n in names
            ]
            groups.append(
                {
                    "boundingPoly": self.normalized_box(),
                    "results": self.product_results(2),
                    "objectAnnotations": objects,
                }
            )
        return compact(
            indexTime=index_time, results=self.product_results(3), productGroupedResults=groups
        )
