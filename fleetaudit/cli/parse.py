"""``fleetaudit parse``: read a saved ss/netstat//proc/net listing and print its sockets."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.options import output_file
from fleetaudit.cli.output import one_file, write_report
from fleetaudit.errors import CaptureError

if TYPE_CHECKING:
    from fleetaudit.model.enums import Tool

_SHOWN_ERRORS = 20
"""Unreadable lines named one by one; the rest are counted (a wrong file has thousands)."""


class ToolChoice(StrEnum):
    """Which dialect to read; ``auto`` recognises it from the text."""

    AUTO = "auto"
    SS = "ss"
    NETSTAT = "netstat"
    PROC = "proc"


class ParseFormat(StrEnum):
    """Output of ``fleetaudit parse``."""

    JSON = "json"
    TABLE = "table"


def parse(
    file: Annotated[
        Path, typer.Argument(help="Saved output of ss, netstat or /proc/net/*; '-' for stdin.")
    ],
    tool: Annotated[
        ToolChoice, typer.Option(help="Dialect of the capture.", case_sensitive=False)
    ] = ToolChoice.AUTO,
    format: Annotated[
        ParseFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = ParseFormat.JSON,
    privileged: Annotated[
        bool,
        typer.Option(
            help="The capture was taken as root, so a socket without a process really has "
            "none. Without it, such sockets are reported as owner unknown."
        ),
    ] = False,
    wide: Annotated[
        bool,
        typer.Option(
            help="The netstat capture was taken with -W, so no address was cut. Without it, "
            "an address that fills netstat's 23-character column (IPv6, or a host or service "
            "name without -n) is reported as a line that may have been cut (unless a longer "
            "address shows the capture is wide)."
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", parser=output_file, help="Write here instead of stdout."),
    ] = None,
) -> None:
    """Parse a saved socket listing into the socket JSON schema (see README).

    Lines that cannot be parsed are reported on stderr with their line number; the exit
    code is then 2, but every other line is still printed.
    """
    with user_errors():
        from fleetaudit.model.enums import Tool
        from fleetaudit.parse import detect_tool, parse_capture

        one_file(output, [("capture", file)])
        text = _read(file)
        if not text or text.isspace():  # whatever --tool says: every dialect prints a header
            raise CaptureError("empty capture: no socket table to read", path=file)
        chosen = None if tool is ToolChoice.AUTO else Tool(tool.value)
        read, result = parse_capture(
            text, tool=chosen, privileged=privileged, wide=wide, source=str(file)
        )
        _say_unused_options(file, read, wide=wide, privileged=privileged)
        from fleetaudit.report.sockets import render_sockets

        empty = not result.sockets and not result.errors
        if empty:  # nothing but the tools' stderr lines (skipped) is no listing: refused
            detect_tool(text, source=str(file))
        write_report(render_sockets(result.sockets, format.value), output)
        if empty:
            # a host audited over SSH has one at least, its own connection (check refuses it)
            print(f"{file}: no socket in the listing, only {read.value}'s header", file=sys.stderr)
        for problem in result.errors[:_SHOWN_ERRORS]:
            print(f"{file}:{problem.line}: {problem.reason}", file=sys.stderr)
        if len(result.errors) > _SHOWN_ERRORS:
            more = len(result.errors) - _SHOWN_ERRORS
            print(f"{file}: and {more} more unreadable line(s)", file=sys.stderr)
        if result.errors:
            raise typer.Exit(2)


def _say_unused_options(file: Path, read: Tool, *, wide: bool, privileged: bool) -> None:
    """Say an option the capture's dialect gives no use to, so that the user does not
    believe it changed the reading."""
    from fleetaudit.model.enums import Tool

    if wide and read is not Tool.NETSTAT:
        print(f"{file}: note: --wide is for netstat captures; this {read.value} capture "
              "never cuts an address, so it changes nothing", file=sys.stderr)  # fmt: skip
    if privileged and read is Tool.PROC:
        print(f"{file}: note: --privileged changes nothing: /proc/net names no process, "
              "so every socket's owner is unknown", file=sys.stderr)  # fmt: skip


def _read(file: Path) -> str:
    from fleetaudit.parse.interface import capture_text, saved_capture

    try:
        return capture_text(saved_capture(file))
    except OSError as exc:
        raise CaptureError(f"cannot read file: {exc.strerror}", path=file) from exc
