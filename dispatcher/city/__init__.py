"""The city's rules as data, pure: category catalogue with time limits, departments and escalation ladder,
the working calendar (working hours, holidays, 调休), routing (area × category → department and level) and
the loader that puts them together with a grid index into a `City`.

May import: `dispatcher.errors`, `geo`. No SQLAlchemy, no other room.
"""
