"""Composite score, ranks with ties: what a leader reads off a ranking."""

from __future__ import annotations

from dispatcher.evaluation.engine import composite, ranked
from dispatcher.evaluation.tables import Cell, Direction, IndicatorDef, Row

CLOSE = IndicatorDef(code="close", name_zh="结案率", name_en="c", numerator="a", denominator="b", weight=0.6)
REWORK = IndicatorDef(code="rework", name_zh="返工率", name_en="r", numerator="a", denominator="b",
                      direction=Direction.LOWER, weight=0.4)  # fmt: skip


def test_a_lower_indicator_scores_its_complement_and_empty_ones_are_left_out_of_the_weights():
    cells = {"close": Cell(numerator=3, denominator=4), "rework": Cell(numerator=1, denominator=4)}
    assert composite([CLOSE, REWORK], cells) == round(0.6 * 75 + 0.4 * 75, 2)
    only_close = {"close": Cell(numerator=3, denominator=4), "rework": Cell(numerator=0, denominator=0)}
    assert composite([CLOSE, REWORK], only_close) == 75.0  # renormalised over 结案率 alone, not 0.6 × 75
    assert composite([CLOSE, REWORK], {"close": Cell(numerator=0, denominator=0)}) is None


def _row(code: str, score: float | None) -> Row:
    return Row(code=code, name=code, counts={}, cells={}, score=score)


def test_ties_share_a_rank_and_the_next_rank_skips():
    rows = ranked([_row("c", 80.0), _row("a", 91.5), _row("x", None), _row("b", 91.5), _row("d", 60.0)])
    assert [(r.code, r.rank) for r in rows] == [("a", 1), ("b", 1), ("c", 3), ("d", 4), ("x", None)]
