"""The fake UptimeRobot answers as the documented API v2 does, and plants the scenarios the SLA job must handle."""

from __future__ import annotations

import json
import sys

import requests

from stack.fake_uptimerobot import FakeUptimeRobot, generate_dataset
from stack.processes import free_port, start_process, stop_process
from tests.sla.support import API_KEY, NOW, TENANTS

NOW_S = int(NOW.timestamp())


def call(fake, method: str, **params) -> requests.Response:
    return requests.post(
        f"{fake.url}/{method}", data={"api_key": API_KEY, "format": "json", **params}, timeout=10
    )


def test_dataset_is_deterministic_for_a_seed():
    one = generate_dataset(TENANTS, seed=3, now=NOW_S)
    again = generate_dataset(TENANTS, seed=3, now=NOW_S)
    other = generate_dataset(TENANTS, seed=4, now=NOW_S)
    logs = lambda ds: [(m.id, [(e.type, e.datetime) for e in m.logs]) for m in ds.monitors]  # noqa: E731
    assert logs(one) == logs(again)
    assert logs(one) != logs(other)


def test_dataset_has_one_http_monitor_per_site_named_after_its_tenant(dataset):
    names = [m.friendly_name for m in dataset.monitors]
    expected = [f"{t['slug']}/{site}" for t in TENANTS for site in t["sites"]]
    assert names[: len(expected)] == expected
    assert all(
        m.url == "https://" + m.friendly_name.split("/", 1)[1] for m in dataset.monitors[: len(expected)]
    )


def test_dataset_plants_every_scenario(dataset):
    facts = dataset.facts
    by_id = {m.id: m for m in dataset.monitors}
    ongoing = by_id[facts["ongoing_monitor_id"]]
    assert ongoing.logs[-1].type == 1 and ongoing.status(NOW_S) == 9
    paused = by_id[facts["paused_monitor_id"]]
    kinds = [e.type for e in paused.logs]
    assert 99 in kinds and kinds[kinds.index(99) + 1] == 98
    assert by_id[facts["created_this_month_monitor_id"]].create_datetime >= facts["month_start"]
    created_last = by_id[facts["created_last_month_monitor_id"]].create_datetime
    assert facts["previous_month_start"] <= created_last < facts["month_start"]
    assert {w.type for w in dataset.mwindows} == {1, 2, 3, 4}
    unmapped = [by_id[i].friendly_name for i in facts["unmapped_monitor_ids"]]
    assert not any(name.split("/")[0] in {t["slug"] for t in TENANTS} for name in unmapped)
    assert facts["breaching_tenant"] == "acme"  # the first enterprise tenant
    assert any(
        e.type == 1 and by_id[facts["breaching_monitor_id"]].logs[i + 1].type == 1
        for i, e in enumerate(by_id[facts["breaching_monitor_id"]].logs[:-1])
    ), "a down entry after a down entry"


def test_wrong_or_missing_key_is_a_stat_fail_that_never_echoes_the_key(fake):
    wrong_key = "u9999999-aaaaaaaaaaaaaaaaaaaaaaaa"
    answer = requests.post(
        f"{fake.url}/getMonitors", data={"api_key": wrong_key, "format": "json"}, timeout=10
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["stat"] == "fail"
    assert body["error"]["type"] == "invalid_parameter" and body["error"]["parameter_name"] == "api_key"
    assert wrong_key not in answer.text and wrong_key[:8] not in answer.text
    missing = requests.post(f"{fake.url}/getMonitors", data={"format": "json"}, timeout=10).json()
    assert missing["error"]["parameter_name"] == "api_key"


def test_monitors_come_fifty_at_most_per_page_with_pagination(fake, dataset):
    first = call(fake, "getMonitors", offset=0, limit=5).json()
    assert first["stat"] == "ok"
    assert first["pagination"] == {"offset": 0, "limit": 5, "total": len(dataset.monitors)}
    second = call(fake, "getMonitors", offset=5, limit=5).json()
    assert [m["id"] for m in first["monitors"] + second["monitors"]] == [m.id for m in dataset.monitors[:10]]
    too_many = call(fake, "getMonitors", limit=51).json()
    assert too_many["stat"] == "fail" and too_many["error"]["parameter_name"] == "limit"
    assert call(fake, "getMonitors").json()["pagination"]["limit"] == 50


def test_monitor_fields_status_and_filter_by_ids(fake, dataset):
    ongoing = dataset.facts["ongoing_monitor_id"]
    body = call(fake, "getMonitors", monitors=f"{ongoing}-{dataset.monitors[0].id}").json()
    assert sorted(m["id"] for m in body["monitors"]) == sorted([ongoing, dataset.monitors[0].id])
    monitor = next(m for m in body["monitors"] if m["id"] == ongoing)
    assert monitor["status"] == 9
    assert {"id", "friendly_name", "url", "type", "interval", "status", "create_datetime"} <= set(monitor)


def test_logs_are_newest_first_with_durations_reasons_and_filters(fake, dataset):
    ongoing = dataset.facts["ongoing_monitor_id"]
    logs = call(fake, "getMonitors", monitors=ongoing, logs=1).json()["monitors"][0]["logs"]
    assert [e["datetime"] for e in logs] == sorted((e["datetime"] for e in logs), reverse=True)
    assert logs[0]["type"] == 1 and logs[0]["duration"] == NOW_S - logs[0]["datetime"]
    assert all(
        newer["datetime"] - older["datetime"] == older["duration"] for newer, older in zip(logs, logs[1:])
    )
    assert all(
        {"id", "type", "datetime", "duration", "reason"} <= set(e) and {"code", "detail"} <= set(e["reason"])
        for e in logs
    )
    start, end = logs[-1]["datetime"] + 1, logs[1]["datetime"]
    ranged = call(
        fake, "getMonitors", monitors=ongoing, logs=1, logs_start_date=start, logs_end_date=end
    ).json()["monitors"][0]["logs"]
    assert ranged and all(start <= e["datetime"] <= end for e in ranged)
    only_down = call(fake, "getMonitors", monitors=ongoing, logs=1, log_types="1").json()["monitors"][0][
        "logs"
    ]
    assert only_down and {e["type"] for e in only_down} == {1}
    limited = call(fake, "getMonitors", monitors=ongoing, logs=1, logs_limit=2).json()["monitors"][0]["logs"]
    assert limited == logs[:2]
    half = call(fake, "getMonitors", logs=1, logs_start_date=start).json()
    assert half["stat"] == "fail" and half["error"]["parameter_name"] == "logs_end_date"


def test_custom_uptime_ranges_are_percentages_with_three_decimals(fake, dataset):
    ongoing = dataset.facts["ongoing_monitor_id"]
    since = dataset.facts["ongoing_since"]
    monitor = call(
        fake, "getMonitors", monitors=ongoing, custom_uptime_ranges=f"{since}_{NOW_S}-{since - 3600}_{NOW_S}"
    ).json()["monitors"][0]
    during, around = monitor["custom_uptime_ranges"].split("-")
    assert during == "0.000"
    down = NOW_S - since
    assert around == f"{100 * 3600 / (3600 + down):.3f}"


def test_maintenance_windows_of_all_four_types(fake):
    body = call(fake, "getMWindows", limit=50).json()
    by_type = {w["type"]: w for w in body["mwindows"] if w["status"] == 1}
    assert any(w["status"] == 0 for w in body["mwindows"])
    assert isinstance(by_type[1]["start_time"], int)
    assert (
        by_type[2]["start_time"] == "03:00" and by_type[3]["value"] == "7" and by_type[4]["value"] == "1-15"
    )
    assert body["pagination"]["total"] == len(body["mwindows"])
    assert call(fake, "getMWindows").json()["pagination"]["limit"] == 10


def test_every_answer_carries_rate_limit_headers_and_excess_gets_429(fake):
    fake.rate_limit_per_minute = 2
    answers = [call(fake, "getMWindows") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert all(
        a.headers["X-RateLimit-Limit"] == "2" and int(a.headers["X-RateLimit-Reset"]) > 1e9 for a in answers
    )
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_requests_are_recorded_without_the_api_key(fake):
    call(fake, "getMonitors", limit=3)
    assert fake.requests[-1].endpoint == "getMonitors"
    assert fake.requests[-1].params["limit"] == "3"
    assert "api_key" not in fake.requests[-1].params


def test_fault_knobs_script_the_next_answers(fake):
    fake.fail_next(1, 503)
    fake.malformed_next(1)
    fake.throttle_next(1)
    statuses = [call(fake, "getMWindows") for _ in range(4)]
    assert [a.status_code for a in statuses] == [503, 200, 429, 200]
    try:
        json.loads(statuses[1].text)
        raise AssertionError("the malformed answer parsed as JSON")
    except ValueError:
        pass


def test_runs_as_a_command_with_a_tenants_file(tmp_path):
    tenants = tmp_path / "tenants.json"
    tenants.write_text(json.dumps(TENANTS))
    key_file = tmp_path / "uptimerobot.key"
    key_file.write_text(API_KEY)
    port = free_port()
    start_process(
        "uptimerobot",
        [
            sys.executable,
            "-m",
            "stack.fake_uptimerobot",
            "--port",
            str(port),
            "--tenants",
            str(tenants),
            "--api-key-file",
            str(key_file),
            "--now",
            NOW.isoformat(),
        ],
        tmp_path,
        port,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        body = requests.post(f"{base}/v2/getMonitors", data={"api_key": API_KEY}, timeout=10).json()
        assert body["stat"] == "ok"
        assert body["pagination"]["total"] == sum(len(t["sites"]) for t in TENANTS) + 2
        # the knobs and the record of requests, for a fake in another process
        requests.post(f"{base}/_control", json={"fail_next": 1, "fail_status": 502}, timeout=10)
        assert (
            requests.post(f"{base}/v2/getMWindows", data={"api_key": API_KEY}, timeout=10).status_code == 502
        )
        recorded = requests.get(f"{base}/_requests", timeout=10).json()
        assert [(r["endpoint"], r["status"]) for r in recorded] == [
            ("getMonitors", 200),
            ("getMWindows", 502),
        ]
        assert all("api_key" not in r["params"] for r in recorded)
    finally:
        stop_process("uptimerobot", tmp_path)
    assert API_KEY not in (tmp_path / "uptimerobot.log").read_text()


def test_in_process_server_starts_and_stops(dataset):
    with FakeUptimeRobot(dataset, API_KEY) as fake:
        assert (
            requests.post(f"{fake.url}/getMWindows", data={"api_key": API_KEY}, timeout=10).json()["stat"]
            == "ok"
        )
