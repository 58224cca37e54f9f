"""Evaluation (综合评价, GB/T 30428.4): indicators over cases, computed with set-based SQL. Today it owns the live
situation the leader's wall shows (counts of the day, open and overdue cases, on-time closure as rates with their
numerator, denominator and period, trends by hour and by day, rankings of departments and streets, channel mix,
staff on duty) and the indicator engine (考核评价): the catalogue as data (catalogue.py, data/indicators.yaml), the
named counts (counts.py), periods (periods.py), objects (objects.py), scores (scoring.py) and tables (engine.py). The
wall's closure on time uses the engine's counts, so the two never disagree.

May import: `dispatcher.fleet`, `dispatcher.cases` and every room below them (`notify`, `access`, `city`, `store`),
the shared modules, `geo`. Not `handling` or `intake` (rooms beside or above it). Nothing imports it but the
adapters (dashboard, workers).
"""
