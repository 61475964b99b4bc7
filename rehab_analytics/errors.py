"""One exception hierarchy for every error a user can cause.

Every error carries a message written for people: what was found, what was
expected and what to do. The CLI prints the message and exits non-zero; it never
shows a traceback for these.
"""

from __future__ import annotations

__all__ = [
    "RehabAnalyticsError",
    "ConfigError",
    "SourceDescriptionError",
    "InputFileError",
    "MissingColumnError",
    "LimitError",
    "UnsafePathError",
    "KeyMissingError",
    "KeyChangedError",
    "OutputInUseError",
    "SampleTargetError",
    "ParameterError",
    "DisclosureError",
    "AnalysisInputError",
]


class RehabAnalyticsError(Exception):
    """Raised for any problem the user can fix; base of all package errors.

    Args:
        message: The whole explanation (found, expected, what to do).
        file: The file involved, if any.
        sheet: The sheet involved, if any.
        row: The 1-based row number in the original file, if any.
        column: The column header involved, if any.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        super().__init__(str(self))

    def location(self) -> str:
        """Return 'file, sheet S, row R, column C' for the parts that are known."""
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class ConfigError(RehabAnalyticsError):
    """Raised when settings or environment variables have invalid values."""


class SourceDescriptionError(RehabAnalyticsError):
    """Raised when a source description (TOML) is malformed or inconsistent."""


class InputFileError(RehabAnalyticsError):
    """Raised when a raw file is missing, empty, corrupt, encrypted or unreadable."""


class MissingColumnError(InputFileError):
    """Raised when a column the source description requires is not in the file."""


class LimitError(InputFileError):
    """Raised when a raw file is bigger than a reading limit (size, cells, characters).

    The message names the limit, the value found, the limit and the setting that
    raises it; the file is not read, the other files and sources still are.
    """


class UnsafePathError(InputFileError):
    """Raised when a file a source would read lies outside the raw folder."""


class KeyMissingError(RehabAnalyticsError):
    """Raised when real data would be pseudonymised without a configured key."""


class KeyChangedError(ConfigError):
    """Raised when a clean would write into a folder made with another pseudonymisation key."""


class OutputInUseError(RehabAnalyticsError):
    """Raised when another clean is writing into the same output folder."""


class SampleTargetError(RehabAnalyticsError):
    """Raised when `sample` would overwrite a folder it did not write itself."""


class ParameterError(RehabAnalyticsError):
    """Raised when report or batch parameters are unknown or of the wrong type."""


class DisclosureError(RehabAnalyticsError):
    """Raised when a table that has not passed disclosure control is published."""


class AnalysisInputError(RehabAnalyticsError, ValueError):
    """Raised when a measure gets a table missing a column, or an unknown option.

    It is also a ``ValueError``, so callers may catch either.
    """
