"""What each entry point imports: the parsers stay pure, and the CLI starts without the
libraries of commands it is not running.

These hold the layering, not a timing: a parser that imports pydantic, or a CLI that
imports asyncssh to print ``--help``, is a design regression (every ``fleetaudit parse``
of a small capture and every ``--help`` paid about 0.1 s for it)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import ModuleType

import pytest

import fleetaudit.model
import fleetaudit.report


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


def _top_level(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_parsers_and_the_socket_json_writer_import_no_pydantic_or_tabulate() -> None:
    loaded = _modules_after(
        "from fleetaudit.parse import parse_capture\n"
        "from fleetaudit.report.sockets import render_sockets\n"
        "list(render_sockets(parse_capture('Netid State Recv-Q Send-Q Local Address:Port "
        "Peer Address:Port\\ntcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\\n')[1].sockets, 'json'))"
    )
    assert "fleetaudit.parse.ss" in loaded  # the parse really ran
    assert not _top_level(loaded) & {"pydantic", "pydantic_core", "tabulate"}


def test_the_cli_imports_no_library_of_a_command_it_does_not_run() -> None:
    loaded = _modules_after("import fleetaudit.cli.app")
    assert "typer" in loaded
    heavy = {"asyncssh", "asyncio", "yaml", "pydantic", "tabulate", "sqlite3", "rich"}
    assert not _top_level(loaded) & heavy


@pytest.mark.parametrize("package", [fleetaudit.model, fleetaudit.report])
def test_every_exported_name_is_there_and_is_its_modules_own(package: ModuleType) -> None:
    for name in package.__all__:
        value = getattr(package, name)
        home = sys.modules.get(getattr(value, "__module__", ""))
        if home is not None and home is not package:
            assert getattr(home, name) is value, name
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        package.Nope  # noqa: B018


def test_names_are_listed_before_first_use_and_formatters_import_as_before() -> None:
    script = (
        "import fleetaudit.model as m, fleetaudit.report as r\n"
        "assert {'Socket', 'Finding'} <= set(dir(m)), dir(m)\n"
        "assert {'OutputFormat', 'JsonFormatter', 'SarifFormatter'} <= set(dir(r)), dir(r)\n"
        "from fleetaudit.report import CsvFormatter, HtmlFormatter, SarifFormatter\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
