"""Who to send: only officers of the case's department; on duty before busy before stale; distance + 300 m a case."""

from dispatcher.fleet.officers import OfficerStatus as S
from dispatcher.fleet.recommend import LOAD_PENALTY_M, Candidate, rank


def c(officer_id, distance_m, load=0, status=S.ON_DUTY, department="HW"):
    return Candidate(officer_id, distance_m, load, status, department)


def ids(ranked):
    return [x.officer_id for x in ranked]


def test_only_officers_of_the_department_are_ever_recommended():
    near_foreign = c("ZF1", 10, department="CGZF")
    no_department = c("GW1", 5, department=None)
    far_own = c("HW1", 4000)
    assert ids(rank([near_foreign, no_department, far_own], "HW", 5)) == ["HW1"]
    assert ids(rank([near_foreign, no_department, far_own], "CGZF", 5)) == ["ZF1"]
    assert rank([near_foreign, no_department, far_own], "SW", 5) == []


def test_no_department_means_no_recommendation():
    assert rank([c("GW1", 5, department=None), c("HW1", 5)], None, 5) == []


def test_nearest_first_and_each_open_case_weighs_300_m():
    assert LOAD_PENALTY_M == 300
    ranked = rank([c("A", 500), c("B", 100), c("C", 250)], "HW", 5)
    assert ids(ranked) == ["B", "C", "A"]
    # among busy officers: 100 m + 2 cases (700) loses to 350 m + 1 case (650)
    busy = rank([c("X", 100, load=2, status=S.BUSY), c("Y", 350, load=1, status=S.BUSY)], "HW", 5)
    assert ids(busy) == ["Y", "X"]
    assert [x.score_m for x in busy] == [650, 700]


def test_on_duty_before_busy_before_stale_and_never_off_duty_or_offline():
    candidates = [
        c("busy-near", 50, load=1, status=S.BUSY),
        c("stale-nearest", 10, status=S.STALE),
        c("free-far", 3000),
        c("off", 1, status=S.OFF_DUTY),
        c("gone", 1, status=S.OFFLINE),
    ]
    assert ids(rank(candidates, "HW", 10)) == ["free-far", "busy-near", "stale-nearest"]


def test_limit_and_a_stable_order_on_ties():
    ranked = rank([c("B", 100), c("A", 100), c("C", 100)], "HW", 2)
    assert ids(ranked) == ["A", "B"]
