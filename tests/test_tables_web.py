"""web_entities, web_images, web_pages, web_labels."""

from __future__ import annotations

from tests.tables_helpers import rows

WEB = {
    "webDetection": {
        "webEntities": [
            {"entityId": "/m/01yrx", "score": 1.2, "description": "Cat"},
            {"entityId": "/g/1"},
        ],
        "fullMatchingImages": [{"url": "https://a/1.jpg"}],
        "visuallySimilarImages": [{"url": "https://a/2.jpg", "score": 0.1}],
        "pagesWithMatchingImages": [
            {
                "url": "https://p/1",
                "pageTitle": "Cats",
                "fullMatchingImages": [{"url": "https://a/1.jpg"}],
                "partialMatchingImages": [{"url": "https://a/3.jpg"}, {"url": "https://a/4.jpg"}],
            }
        ],
        "bestGuessLabels": [{"label": "cat", "languageCode": "en"}],
    }
}


def test_web_tables() -> None:
    assert [(r["entity_id"], r["description"], r["score"]) for r in rows("web_entities", WEB)] == [
        ("/m/01yrx", "Cat", 1.2),
        ("/g/1", None, 0.0),
    ]
    assert [(r["page_index"], r["kind"], r["rank"], r["url"]) for r in rows("web_images", WEB)] == [
        (None, "full", 0, "https://a/1.jpg"),
        (None, "similar", 0, "https://a/2.jpg"),
        (0, "full", 0, "https://a/1.jpg"),
        (0, "partial", 0, "https://a/3.jpg"),
        (0, "partial", 1, "https://a/4.jpg"),
    ]
    (page,) = rows("web_pages", WEB)
    assert (page["url"], page["page_title"]) == ("https://p/1", "Cats")
    assert (page["n_full_matching"], page["n_partial_matching"]) == (1, 2)
    assert [(r["label"], r["language_code"]) for r in rows("web_labels", WEB)] == [("cat", "en")]
