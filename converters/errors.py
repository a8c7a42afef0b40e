"""The one exception family of the converter; messages name the file, DAG and task."""

from __future__ import annotations

__all__ = ["Af2KfpError", "InputError", "GraphFormatError"]


class Af2KfpError(Exception):
    """Base of every error af2kfp raises on purpose."""


class InputError(Af2KfpError):
    """A path or option the user gave cannot be used (exit code 2, no traceback)."""


class GraphFormatError(Af2KfpError):
    """A serialised migration graph does not follow the documented JSON form."""
