"""The fleetaudit exception tree and the process exit codes.

Every error fleetaudit raises on purpose descends from :class:`FleetAuditError`::

    FleetAuditError
    ├── InputError            a file the user gave us is wrong (names file, line, key)
    │   ├── InventoryError
    │   ├── PolicyError
    │   └── CaptureError      a saved capture is not a socket table
    ├── TransportError        one host could not be reached or commanded; carries a HostStatus
    └── HistoryError          the history database cannot be opened, read or written
        └── HistoryFullError  its filesystem has no room left for a write

Third-party exceptions (asyncssh, OSError, yaml, pydantic) are translated into these at the
boundary of the stage that calls the library, never later.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path

from fleetaudit.model.enums import HostStatus


class ExitCode(IntEnum):
    """Process exit codes, the contract with cron, CI and review gates."""

    CLEAN = 0
    """No finding at or above ``--fail-on`` and every host audited."""
    FINDINGS = 1
    """At least one finding at or above ``--fail-on``."""
    ERROR = 2
    """Bad input, an internal error, or hosts that could not be audited."""


class FleetAuditError(Exception):
    """Base of every error fleetaudit raises deliberately."""


class InputError(FleetAuditError):
    """A user-supplied file is invalid; the message names the file, line and key.

    ``also`` holds the file's further problems found by the same check (see
    :func:`together`); ``str()`` is this one alone."""

    also: tuple[InputError, ...] = ()

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.key = key
        super().__init__(self.location_prefix() + message)

    def location_prefix(self) -> str:
        """``file:line:column: key: `` with whichever parts are known."""
        parts = ""
        if self.path is not None:
            parts = self.path
            if self.line is not None:
                parts += f":{self.line}"
                if self.column is not None:
                    parts += f":{self.column}"
            parts += ": "
        if self.key:
            parts += f"{self.key}: "
        return parts


def together(problems: Sequence[InputError]) -> InputError:
    """The first of ``problems`` (at least one), carrying the others in ``also``: a file
    with ten broken rules is reported once with ten lines, not fixed one error per run."""
    first, *rest = problems
    first.also = (*first.also, *(p for problem in rest for p in (problem, *problem.also)))
    return first


def read_utf8(path: Path, error_cls: type[InputError]) -> str:
    """The UTF-8 text of ``path``; ``error_cls`` naming the file and why it cannot be read
    ("No such file or directory", "not UTF-8 text"), without Python's errno dressing."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error_cls(
            f"cannot read file: it is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start})",
            path=path,
        ) from exc
    except OSError as exc:
        raise error_cls(f"cannot read file: {exc.strerror or exc}", path=path) from exc


class InventoryError(InputError):
    """The inventory file is invalid."""


class PolicyError(InputError):
    """The policy file is invalid."""


class CaptureError(InputError):
    """A capture (saved command output) is not a socket table we can read."""


class TransportError(FleetAuditError):
    """A host could not be connected to or commanded.

    ``status`` is the per-host status the report shows; ``message`` explains it to a human.
    """

    def __init__(self, status: HostStatus, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status.value}: {message}")


class HistoryError(FleetAuditError):
    """The history database cannot be opened, read or written."""


class HistoryFullError(HistoryError):
    """The filesystem holding the history database has no room left for a write."""
