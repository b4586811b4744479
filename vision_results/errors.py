"""The one exception hierarchy of vision-results.

Every error the package raises on purpose is a :class:`VisionResultsError`, so
``except vr.VisionResultsError`` catches them all; the subclasses say which part
of the work failed and their messages say what to do about it.
"""

from __future__ import annotations


class VisionResultsError(Exception):
    """Base class of every error raised by vision-results."""


class UsageError(VisionResultsError):
    """An argument cannot be taken: an unknown table, a DEST inside SOURCE, an option
    the chosen engine does not have. The command line exits with status 2."""


class SourceError(VisionResultsError):
    """The SOURCE cannot be read: missing folder, unknown scheme, no access."""


class ShardError(VisionResultsError):
    """One shard is not valid JSON or not a Vision response.

    ``shard`` names the file or object, ``reason`` says what is wrong with it.
    """

    def __init__(self, shard: str, reason: str) -> None:
        self.shard = shard
        self.reason = reason
        super().__init__(
            f"{shard}: {reason}. Fix or remove this shard, or pass --on-error skip "
            "(on_error='skip') to export the rest and list it in the report."
        )

    def __reduce__(self) -> tuple[type[ShardError], tuple[str, str]]:
        # Raised in parser processes: rebuild from both arguments, not the message.
        return ShardError, (self.shard, self.reason)


class JobError(VisionResultsError):
    """A Vision operation failed, or the service refused to start or report one."""


class DestinationError(VisionResultsError):
    """DEST cannot be written as asked: it exists, is a file, or writing failed (no
    space, no permission)."""


class ImageError(VisionResultsError):
    """The picture to draw on cannot be had: a URL this package does not fetch, a
    missing file or object, or bytes that are not an image."""
