"""User-facing errors: the CLI prints them as one line and exits non-zero."""


class DreamTalkError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class InputError(DreamTalkError, ValueError):
    """An input file or argument is unusable (wrong type, empty, corrupt, missing channels)."""


class MissingDependency(DreamTalkError):
    """An optional package a chosen mode needs is not installed (e.g. pocketsphinx for a transcript)."""


class Cancelled(DreamTalkError):
    """The user (or a ``cancel()`` callback) stopped a running generation."""


class DreamTalkWarning(UserWarning):
    """Something the run worked around (e.g. a transcript that could not be aligned); the CLI prints one line."""
