"""The engine: plain Python that decides, with no web framework, Redis or RQ in it.

Rooms by capability (each package's docstring says what it owns and what it may import; the
import-linter contracts in pyproject.toml hold them to it). Higher rooms may import lower ones, never
the reverse; rooms on the same line do not import each other:

    intake | fleet | (handling | evaluation | enforcement)    what arrives, who is out there, what follows
    cases                                                     the incident, its lifecycle and clocks
    access | city                                             who may do what; the city's rules as data
    store                                                     tables, column types, outbox, migrations

and three shared modules every room may use: `errors` (the engine's error types), `settings` (the one
settings object) and `schema` (every table, for migrations and tests).
"""
