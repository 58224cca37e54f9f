"""The seat desk's server side, through the Dash callbacks as the browser calls them: an action from a view that is
no longer current is refused and says who did what first; the search box finds cases by number, address and (for
roles that see them) the caller's number. Both backends."""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import act, report
from tests.integration.test_scope_matrix import bearer, dash_server, make_account  # noqa: F401
from tests.integration.test_work_page import Desk, _call, _spec, v


def _rec_press(client, headers, incident_id: str, officer: str, shown: str) -> str:
    """Press a recommended officer's one-click dispatch in a drawer drawn for version `shown`; the toast's text."""
    spec = _spec(client, headers, lambda c: any("cc-rec" in i["id"] for i in c["inputs"]))
    answer = _call(
        client,
        headers,
        spec,
        [[], [v({"officer": officer, "type": "cc-rec"}, "n_clicks", 1)]],
        [
            v("cc-selected", "data", incident_id),
            v("cc-act-note", "value", None),
            v("cc-act-public", "value", None),
            v("cc-dispatch-dept", "value", "HW"),
            v("cc-act-result", "data", 0),
            v("cc-drawer-ver", "data", shown),
            v("gc-lang", "data", "zh"),
        ],
        changed=json.dumps({"officer": officer, "type": "cc-rec"}, separators=(",", ":")) + ".n_clicks",
    )
    return json.dumps(answer.get("response", {}), ensure_ascii=False)


@pytest.fixture
def seat(dash_server, db):  # noqa: F811
    _, _, sessions = db
    principal, token = make_account(sessions, "dispatcher", "330199", None)
    return principal, bearer(token)


def test_an_action_from_a_stale_view_is_refused_and_names_who_acted_first(client, city, seat):
    principal, headers = seat
    incident = report(client, city).json
    assert act(client, incident["id"], "file").status_code == 200
    desk = Desk(client, headers, lang="zh")
    _, drawn = desk.drawer(incident["id"])
    shown = json.loads(drawn)["cc-drawer-ver"]["data"]
    assert shown.startswith(incident["id"] + ":")
    assert act(client, incident["id"], "dispatch", department="HW").status_code == 200  # the shift leader, first
    toast = _rec_press(client, headers, incident["id"], "HW001", shown)
    assert "已被他人处理" in toast and incident["case_number"] in toast and "派遣" in toast
    after = client.get(f"/api/v1/incidents/{incident['id']}").json
    assert after["assignee"] is None and after["version"] == int(shown.rsplit(":", 1)[1]) + 1  # nothing else done


def test_the_search_box_finds_cases_by_number_and_address(client, city, seat):
    _, headers = seat
    incident = report(client, city, address="云河区望江路 88 号").json
    other = report(client, city, address="清波街 3 号").json
    spec = _spec(client, headers, lambda c: c["output"] == "cc-search-hits.data")

    def search(text):
        answer = _call(client, headers, spec, [v("cc-search", "value", text)], [])
        return [r["id"] for r in answer["response"]["cc-search-hits"]["data"] or []]

    assert search(incident["case_number"]) == [incident["id"]]
    found = search("望江路 88")
    assert incident["id"] in found and other["id"] not in found
