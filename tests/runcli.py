"""Run the real ``fleetaudit`` command line in a subprocess, as a user would."""

import subprocess
import sys
from pathlib import Path


def fleetaudit(
    *args: str | Path, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m fleetaudit ARGS``; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "fleetaudit", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        check=False,
    )
