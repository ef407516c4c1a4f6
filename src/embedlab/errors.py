"""The exception family of embedlab.

Every message says what was expected, what was received, and what to do. The command
line prints the message on one line and exits with status 2.
"""

from __future__ import annotations


class EmbedlabError(Exception):
    """Base class of every error embedlab raises on purpose."""

    exit_code = 2


class DataError(EmbedlabError, ValueError):
    """A data file or table is unreadable, empty or lacks what was asked of it."""


class ColumnError(DataError, KeyError):
    """A named column is not in the table."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class LabelError(DataError):
    """The label column cannot serve the task (one class, unknown positive value...)."""


class ConfigError(EmbedlabError, ValueError):
    """An argument or setting is out of range or contradicts another."""


class BundleError(EmbedlabError):
    """A saved bundle is missing a file, is from a newer embedlab, or is damaged."""


class TrainingError(EmbedlabError):
    """Training went wrong in a way no option check could foresee (a loss that diverged)."""


class VectorsError(EmbedlabError, ValueError):
    """A word-vector file is malformed or cannot serve the request."""


class MissingDependencyError(EmbedlabError, ImportError):
    """An optional package is needed for this feature."""


def column_error(name: str, available: list[str], *, what: str = "column") -> ColumnError:
    """Build the error for a missing column, naming the ones that exist."""
    import difflib

    shown = ", ".join(repr(c) for c in available[:30])
    if len(available) > 30:
        shown += f", ... ({len(available)} in all)"
    close = difflib.get_close_matches(name, available, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ColumnError(
        f"{what} {name!r} is not in the data; it has: {shown}.{hint} "
        f"Pass one of these names."
    )
