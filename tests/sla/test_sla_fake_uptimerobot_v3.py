"""The fake UptimeRobot's API v3, answered from the v2 data set as UptimeRobot documents v3."""

from __future__ import annotations

import requests

from stack.fake_uptimerobot_v3 import INCIDENTS_PAGE, plan_rate_limit
from tests.sla.support import API_KEY


def get(fake, path: str, token: str | None = API_KEY, **params) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(f"{fake.url_v3}/{path}", params=params, headers=headers, timeout=10)


def test_a_missing_or_wrong_token_is_a_401_and_the_v2_key_form_is_not_accepted(fake):
    for token in (None, API_KEY + "x"):
        answer = get(fake, "monitors", token)
        assert answer.status_code == 401 and answer.json() == {"message": "Unauthorized", "statusCode": 401}
    assert get(fake, f"monitors?api_key={API_KEY}", None).status_code == 401
    assert all(API_KEY not in str(r.params) for r in fake.requests)


def test_bad_parameters_and_unknown_paths_answer_as_nestjs_does(fake):
    answer = get(fake, "monitors", limit=201)
    assert answer.status_code == 400
    assert answer.json() == {
        "message": ["Limit must be between 1 and 200"],
        "error": "Bad Request",
        "statusCode": 400,
    }
    assert get(fake, "incidents", cursor="abc").status_code == 400
    assert get(fake, "incidents", started_after="yesterday").status_code == 400
    missing = get(fake, "monitorz")
    assert missing.status_code == 404 and missing.json()["message"] == "Cannot GET /v3/monitorz"


def test_monitors_come_in_cursor_pages_until_next_link_is_null(fake, dataset):
    seen, cursor = [], None
    while True:
        body = get(fake, "monitors", limit=4, **({"cursor": cursor} if cursor else {})).json()
        seen += [m["id"] for m in body["data"]]
        if body["nextLink"] is None:
            break
        cursor = body["nextLink"].rsplit("cursor=", 1)[1]
    assert seen == sorted(m.id for m in dataset.monitors)
    first = get(fake, "monitors", limit=200).json()["data"][0]
    assert first["status"] in {"PAUSED", "STARTED", "UP", "LOOKS_DOWN", "DOWN"}
    assert first["createDateTime"].endswith(".000Z") and "friendlyName" in first


def test_incidents_are_the_down_stretches_of_the_v2_logs_newest_first(fake, dataset):
    body = get(fake, "incidents").json()
    incidents = body["data"]
    expected = sum(
        1
        for m in dataset.monitors
        for n, e in enumerate(m.logs_until(dataset.now))
        if e.type == 1 and not (n and m.logs_until(dataset.now)[n - 1].type == 1)
    )
    assert len(incidents) == min(expected, INCIDENTS_PAGE)
    starts = [i["startedAt"] for i in incidents]
    assert starts == sorted(starts, reverse=True)
    ongoing = [i for i in fake.v3_incidents() if i["resolvedAt"] is None]
    assert [i["monitor"]["id"] for i in ongoing] == [dataset.facts["ongoing_monitor_id"]]
    one = get(fake, "incidents", monitor_id=dataset.facts["breaching_monitor_id"]).json()["data"]
    assert one and {i["monitor"]["id"] for i in one} == {dataset.facts["breaching_monitor_id"]}
    after = get(fake, "incidents", started_after=starts[0]).json()["data"]
    assert after == []  # exclusive bound


def test_maintenance_windows_in_v3_form(fake):
    windows = {w["id"]: w for w in get(fake, "maintenance-windows").json()["data"]}
    assert (
        windows[501]["interval"] == "once" and windows[501]["date"] and windows[501]["time"].count(":") == 2
    )
    assert (windows[502]["interval"], windows[502]["time"], windows[502]["date"]) == (
        "daily",
        "03:00:00",
        None,
    )
    assert windows[503]["days"] == [7] and windows[504]["days"] == [1, 15]
    assert windows[505]["status"] == "paused" and windows[502]["duration"] == 30


def test_v3_answers_carry_the_accounts_rate_limit_and_429_with_retry_after(fake):
    fake.rate_limit_per_minute = 2
    answers = [get(fake, "maintenance-windows") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["statusCode"] == 429 and int(answers[2].headers["Retry-After"]) >= 1
    assert all("X-RateLimit-Limit" in a.headers and "X-RateLimit-Reset" in a.headers for a in answers)
    assert (plan_rate_limit("free"), plan_rate_limit("pro", 1000), plan_rate_limit("pro", 50_000)) == (
        10,
        2000,
        5000,
    )
