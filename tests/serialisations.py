"""Every way a user may save a Vision response, made with the real clients.

Each form takes a proto-plus message (parsed from the service's JSON) and gives
the text a user would write to a file: the official client's ``to_json``, its
``to_dict`` dumped with ``json.dump``, and protobuf's ``json_format`` with each
of its options. docs/tables.md lists the same forms (checked by test_docs.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from google.cloud import vision
from google.protobuf import json_format

Message = Any  # a proto-plus message


def _dict(**options: bool) -> Callable[[Message], Any]:
    return lambda message: json_format.MessageToDict(type(message).pb(message), **options)


PROTO_NAMES = {"preserving_proto_field_name": True}
NUMBERS = {"use_integers_for_enums": True}
DEFAULTS = {"always_print_fields_with_no_presence": True}

FORMS: dict[str, Callable[[Message], Any]] = {
    # proto-plus: camelCase, enums as numbers, every default (indented text)
    "to_json": lambda message: type(message).to_json(message),
    # proto-plus: proto field names, enums as numbers, every default
    "to_dict": lambda message: type(message).to_dict(message),
    "MessageToJson": lambda message: json_format.MessageToJson(type(message).pb(message)),
    "MessageToDict": _dict(),
    "MessageToDict(preserving_proto_field_name=True)": _dict(**PROTO_NAMES),
    "MessageToDict(use_integers_for_enums=True)": _dict(**NUMBERS),
    "MessageToDict(always_print_fields_with_no_presence=True)": _dict(**DEFAULTS),
    "MessageToDict(preserving_proto_field_name=True, use_integers_for_enums=True, "
    "always_print_fields_with_no_presence=True)": _dict(**PROTO_NAMES, **NUMBERS, **DEFAULTS),
}


def message_type(document: dict[str, Any]) -> Any:
    """The message a shard's JSON is: a file response, a batch, or one response."""
    if "inputConfig" in document or "totalPages" in document:
        return vision.AnnotateFileResponse
    if "responses" in document:
        return vision.BatchAnnotateImagesResponse
    return vision.AnnotateImageResponse


def message(data: bytes) -> Message:
    """The service's JSON as the client library's message (fields it lacks, such as
    a web demo's extras, are dropped as the client drops them)."""
    document = json.loads(data)
    return message_type(document).from_json(data.decode(), ignore_unknown_fields=True)


def as_text(value: Any) -> bytes:
    """What a user writes: the text as is, or a dict through ``json.dump``."""
    return (value if isinstance(value, str) else json.dumps(value)).encode()


def write(form: str, data: bytes) -> bytes:
    """The service JSON ``data`` saved in ``form``."""
    return as_text(FORMS[form](message(data)))


def mixed(data: bytes) -> bytes:
    """One shard whose responses are each in another form (the batch itself in the
    proto-plus ``to_dict`` form): response i in form i mod len(FORMS)."""
    whole = message(data)
    if not hasattr(whole, "responses"):
        return write("to_dict", data)
    document = FORMS["to_dict"](whole)
    forms = list(FORMS.values())
    document["responses"] = [
        json.loads(as_text(forms[index % len(forms)](response)))
        for index, response in enumerate(whole.responses)
    ]
    return json.dumps(document).encode()
