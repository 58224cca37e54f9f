"""The `gridcommand` command: demo, serve, cluster, worker, db upgrade, imports, accounts, audit verify, keys, backup and restore.

One module per group of commands; each registers itself on `main` (dashboard/cli/base.py) when imported here.
"""

from dashboard.cli import accounts, addresses, backup, cluster, data, devices, keys, reports, run  # noqa: F401  (registers the commands)
from dashboard.cli.base import main

__all__ = ["main"]
