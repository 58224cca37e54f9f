"""The people in the field: officers and their devices, the position pipeline (noise filter, grid
enter/exit) and the ranking of officers to recommend for a case.

May import: `dispatcher.cases` and everything below it. Not `intake` (or later sibling rooms).
"""
