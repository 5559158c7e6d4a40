"""fleetaudit: an agentless, fleet-wide audit of Linux network listeners.

The public library surface is re-exported here; everything the CLI does is available as
``Auditor(config).run(inventory, policy)`` returning a :class:`RunResult`.
"""

__version__ = "0.5.0"
