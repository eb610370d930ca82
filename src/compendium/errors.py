"""The package's own exception types, raised where bad input enters."""

from __future__ import annotations

from pathlib import Path


class CompendiumError(Exception):
    """Base class of every error the compendium raises on purpose."""


class DataError(CompendiumError, ValueError):
    """A raw or tidy data file breaks the data contract.

    The message always names the file, and where known the row (1-based, as a
    spreadsheet shows it, header = row 1), the column, what was expected and
    what was found.
    """

    def __init__(
        self,
        file: str | Path,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        found: object | None = None,
    ) -> None:
        self.file = str(file)
        self.problem = problem
        self.row = row
        self.column = column
        self.expected = expected
        self.found = found
        where = [f"file {Path(self.file).name!s} ({self.file})"]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        msg = f"{', '.join(where)}: {problem}"
        if expected is not None:
            msg += f"; expected {expected}"
        if found is not None:
            msg += f"; found {found!r}"
        super().__init__(msg)


class ParameterError(CompendiumError, ValueError):
    """A notebook parameter has a wrong name, type or value."""

    def __init__(self, name: str, problem: str, *, allowed: object | None = None) -> None:
        self.name = name
        self.allowed = allowed
        msg = f"parameter {name!r}: {problem}"
        if allowed is not None:
            msg += f"; allowed: {allowed}"
        super().__init__(msg)
