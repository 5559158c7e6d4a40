"""Package names imported on first use, for packages every command imports.

A package's ``__init__`` that re-exports its modules' names imports them all whenever any
one module of the package is imported. For :mod:`fleetaudit.model` and
:mod:`fleetaudit.report` that meant pydantic, tabulate and every formatter for a command
that needs none of them (``fleetaudit parse``, ``--help``). A package instead sets
``__getattr__, __dir__ = exports(__name__, {...})`` (PEP 562) and imports the names under
``TYPE_CHECKING`` for type checkers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def exports(
    package: str, module_of: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` giving each name of ``module_of`` from its module of
    ``package`` (a name is imported once, then found in the package like any other), and
    a ``__dir__`` that lists them before they are."""
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *module_of})

    return __getattr__, __dir__
