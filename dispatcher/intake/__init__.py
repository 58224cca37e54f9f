"""What arrives (受理): report commands, receiving and placing a report, duplicate search and the triage
queue, caller history, grid workers' media, Open311 GeoReport v2 mapping, camera and sensor events.

May import: `dispatcher.cases` and everything below it. Not `fleet` (or later sibling rooms).
"""
