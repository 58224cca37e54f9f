"""The command center's drawer: a note for the public apart from the internal one; only the buttons one may press."""

from __future__ import annotations

from dashboard.pages.drawer import action_request
from dispatcher.cases.lifecycle import Action


def test_the_public_note_travels_apart_from_the_internal_note():
    req = action_request(
        Action.CLOSE, "现场核实：商户王某已整改", None, None, None, "  占道问题已处理完毕，感谢反映。 "
    )
    assert req.note == "现场核实：商户王某已整改"
    assert req.public_note == "占道问题已处理完毕，感谢反映。"


def test_an_empty_public_note_is_left_out():
    req = action_request(Action.HANDLE, "已清运", None, None, None, "   ")
    assert req.result == "已清运" and req.public_note is None


def test_the_drawer_offers_only_what_this_person_may_do_to_this_case():
    from dashboard.pages.drawer import allowed_actions
    from dispatcher.access.accounts import Principal
    from dispatcher.access.roles import Role
    from dispatcher.cases.incident import Incident

    case = Incident(
        id="i-hw-1", status="dispatched", department_code="HW", grid_district="330199", grid_street="330199001"
    )
    view = {"allowed_actions": ["claim", "return", "escalate"]}
    street_officer = Principal("a1", "zf-wang", Role.ENFORCEMENT, "330199001", "CGZF")
    hw_handler = Principal("a2", "hw-li", Role.DEPT_HANDLER, None, "HW")
    assert allowed_actions(view, street_officer, case) == []  # sees it in his street, may not act on it
    assert allowed_actions(view, hw_handler, case) == ["claim", "return", "escalate"]  # 上报 hands it over
