"""The transition table: every allowed move works and writes one timeline row and one event; others are refused."""

from datetime import UTC, datetime

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import TRANSITIONS, Action, IllegalTransition, Status, allowed_actions, next_status
from dispatcher.errors import Conflict

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def incident_in(status: Status) -> Incident:
    incident = Incident(channel="api", status=str(status), description="x", created_at=NOW, updated_at=NOW)
    return incident


@pytest.mark.parametrize(("source", "action"), sorted(TRANSITIONS), ids=lambda v: str(v))
def test_every_allowed_transition_moves_and_records(source, action):
    incident = incident_in(source)
    entry = incident.transition(action, actor="op-1", now=NOW, note="n")
    assert incident.state is TRANSITIONS[(source, action)]
    assert (entry.from_status, entry.to_status, entry.action, entry.actor) == (
        str(source),
        str(TRANSITIONS[(source, action)]),
        str(action),
        "op-1",
    )
    assert len(incident.timeline) == 1 and len(incident.events) == 1
    assert incident.events[0].name == f"incident.{action}"


FORBIDDEN = [
    (Status.REPORTED, Action.DISPATCH),  # must be filed first
    (Status.FILED, Action.CLAIM),  # must be dispatched first
    (Status.DISPATCHED, Action.HANDLE),  # must be claimed first
    (Status.HANDLED, Action.CLOSE),  # must be verified first
    (Status.CLOSED, Action.DISPATCH),
    (Status.VOIDED, Action.FILE),  # voided is final
    (Status.ARCHIVED, Action.VOID),
    (Status.SUSPENDED, Action.HANDLE),  # resume first
    (Status.VERIFIED, Action.HANDLE),  # verified work is not fed back again
    (Status.CLAIMED, Action.CALLBACK),  # callbacks come after verification
    (Status.CLAIMED, Action.UPHOLD),  # only a returned case is arbitrated
    (Status.CLAIMED, Action.REVOKE),  # a claimed dispatch can no longer be revoked
    (Status.CLAIMED, Action.VOID),  # a department cannot void; it returns
]


@pytest.mark.parametrize(("source", "action"), FORBIDDEN, ids=lambda v: str(v))
def test_forbidden_transitions_raise_and_change_nothing(source, action):
    incident = incident_in(source)
    with pytest.raises(IllegalTransition) as err:
        incident.transition(action, actor="op-1", now=NOW)
    assert incident.state is source and incident.timeline == [] and incident.events == []
    assert incident.id in str(err.value) and str(action) in str(err.value) and str(source) in str(err.value)
    assert isinstance(err.value, Conflict)


def test_terminal_statuses_allow_nothing_and_every_status_is_reachable():
    assert allowed_actions(Status.VOIDED) == set() and allowed_actions(Status.ARCHIVED) == set()
    reachable, frontier = {Status.REPORTED}, [Status.REPORTED]
    while frontier:
        status = frontier.pop()
        for action in allowed_actions(status):
            target = next_status("x", status, action)
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(Status)


class LifecycleMachine(RuleBasedStateMachine):
    """Random walks over every action: only table moves happen, one timeline row each, nothing else."""

    def __init__(self):
        super().__init__()
        self.incident = incident_in(Status.REPORTED)
        self.moves = 0

    @rule(action=st.sampled_from(list(Action)))
    def act(self, action):
        before = self.incident.state
        if (before, action) in TRANSITIONS:
            self.incident.transition(action, actor="m", now=NOW)
            self.moves += 1
            assert self.incident.state is TRANSITIONS[(before, action)]
        else:
            with pytest.raises(IllegalTransition):
                self.incident.transition(action, actor="m", now=NOW)
            assert self.incident.state is before

    @invariant()
    def one_row_per_move(self):
        assert len(self.incident.timeline) == self.moves == len(self.incident.events)
        assert [e.seq for e in self.incident.timeline] == list(range(1, self.moves + 1))
        for prev, entry in zip(self.incident.timeline, self.incident.timeline[1:]):
            assert entry.from_status == prev.to_status


TestLifecycleMachine = LifecycleMachine.TestCase
TestLifecycleMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_only_unworked_reports_can_be_merged_and_a_merged_one_only_unmerged():
    assert {s for (s, a) in TRANSITIONS if a is Action.MERGE} == {Status.REPORTED, Status.TRIAGE, Status.FILED}
    assert allowed_actions(Status.MERGED) == {Action.UNMERGE}
    assert next_status("x", Status.MERGED, Action.UNMERGE) is Status.REPORTED
