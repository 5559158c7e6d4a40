"""Run the real ``fleetaudit`` command line in a subprocess, as a user would.

Every call gets a private state directory (``XDG_STATE_HOME``), so runs recorded in the
history and keys learnt with ``--accept-new`` never touch the real home directory.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_STATE = tempfile.mkdtemp(prefix="fleetaudit-test-state-")
atexit.register(shutil.rmtree, _STATE, ignore_errors=True)


def fleetaudit(
    *args: str | Path,
    stdin: str | None = None,
    timeout: float = 120,
    state: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m fleetaudit ARGS``, with ``env`` added to the environment; never raises
    on a non-zero exit."""
    env = {**os.environ, **(env or {}), "XDG_STATE_HOME": str(state or _STATE)}
    return subprocess.run(
        [sys.executable, "-m", "fleetaudit", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        check=False,
        env=env,
    )
