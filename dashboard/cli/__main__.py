"""`python -m dashboard.cli`: the same command as `gridcommand`."""

from dashboard.cli import main

main()
