"""The report contract: one formatter per output format, chosen from an enum."""

from __future__ import annotations

from abc import ABC, abstractmethod

from fleetaudit.model.run import RunResult


class Formatter(ABC):
    """Renders a whole run as one document."""

    @abstractmethod
    def render(self, run: RunResult) -> str:  # pragma: no cover
        """The document for ``run``, ending with a newline."""
