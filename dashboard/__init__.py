"""The web process: Flask app factory, HTTP APIs, the Dash command center, and the `gridcommand` CLI."""

import sys

# Dash imports IPython whenever it is installed (for notebooks): up to a second of every web process's start, for a
# feature a server never uses. A None entry makes that import fail at once, which Dash expects it may; a process
# that already runs under IPython keeps it.
sys.modules.setdefault("IPython", None)  # type: ignore[arg-type]
