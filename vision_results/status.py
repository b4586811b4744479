"""google.rpc.Status as vision-results reads it: the code names, and what is an error.

A response's ``error`` (and an operation's) is a ``google.rpc.Status``; the
tables, the export's index of answers, the reports and the job commands all name
its codes the same way.
"""

from __future__ import annotations

from typing import Any

GRPC_STATUS = (
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
)

"""google.rpc.Code names, by number."""


def response_error(response: dict[str, Any]) -> dict[str, Any] | None:
    """The response's error, or None; an all-default ``{"code": 0}`` is no error."""
    error = response.get("error")
    if error and (error.get("code") or error.get("message")):
        return dict(error)
    return None


def status_name(code: int) -> str:
    """The name of a google.rpc.Code (its number as text when it has none)."""
    return GRPC_STATUS[code] if 0 <= code < len(GRPC_STATUS) else str(code)
