"""User-facing errors: the CLI prints them as one line and exits non-zero."""


class DreamTalkError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class InputError(DreamTalkError, ValueError):
    """An input file or argument is unusable (wrong type, empty, corrupt, missing channels)."""


class Cancelled(DreamTalkError):
    """The user (or a ``cancel()`` callback) stopped a running generation."""
