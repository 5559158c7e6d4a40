"""The report contract: one formatter per output format, chosen from an enum."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from fleetaudit.model.run import RunResult


class Formatter(ABC):
    """Renders a whole run as one document."""

    @abstractmethod
    def render(self, run: RunResult) -> str:  # pragma: no cover
        """The document for ``run``, ending with a newline."""

    def pieces(self, run: RunResult) -> Iterator[str]:
        """The same document in pieces, for writing as it is made: formats whose size grows
        with the fleet override this so that a large run never holds the whole text."""
        yield self.render(run)
