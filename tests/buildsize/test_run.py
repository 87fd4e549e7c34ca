"""The job end to end on real components: demo builds in (moto) S3, the results store in PostgreSQL."""

import dataclasses
import json

import pytest

from reliability.buildsize import run
from reliability.buildsize.outcome import headline as headline_of
from reliability.buildsize.store import build_history
from reliability.core.outcome import Outcome
from stack.demo_builds import DEMO_APP, demo_build, seed_demo_builds

MAIN = "static/js/main.[hash].js"


@pytest.fixture
def demo_bucket(s3_client, s3_bucket):
    assert seed_demo_builds(s3_client, s3_bucket) == ["1001", "1002", "1003", "1004"]
    return s3_bucket


def check(requests, s3_client, bucket, results_dsn, config, interval_key="2026-01-08"):
    outcomes = run.run(
        [r.to_dict() for r in requests],
        results_dsn=results_dsn,
        interval_key=interval_key,
        s3_client=s3_client,
        bucket=bucket,
        config=config,
        workers=2,
    )
    return [Outcome.from_dict(json.loads(json.dumps(o.to_dict()))) for o in outcomes]  # as through XCom


def series(outcome, name, **labels):
    return {
        m.labels.get("compression"): m.value
        for m in outcome.metrics
        if m.name == name and all(m.labels.get(k) == v for k, v in labels.items())
    }


def test_the_demo_history_ends_with_a_build_over_budget(s3_client, demo_bucket, results_dsn, repo_config):
    outcomes = []
    for build_id in ("1001", "1002", "1003", "1004"):
        request = run.BuildRequest(DEMO_APP, build_id)
        outcomes += check([request], s3_client, demo_bucket, results_dsn, repo_config)
    first, second, third, newest = outcomes

    assert first.status == "success" and "no baseline yet" in first.headline
    assert second.status == third.status == "success"
    assert third.summary["baseline"]["build_ids"] == ["1002", "1001"]

    assert newest.status == "warning" and newest.alert
    assert newest.subject == {"app": "web"} and newest.job == "build_size_watchdog"
    assert newest.headline == (
        f"web build 1004: 1 bundle over budget ({MAIN}: "
        "gzip 79.6 kB > budget 65.0 kB, brotli 64.1 kB > budget 55.0 kB)"
    )
    assert newest.summary["baseline"] == {
        "branch": "main",
        "build_ids": ["1003", "1002", "1001"],
        "bytes": newest.summary["baseline"]["bytes"],
    }
    assert newest.summary["counts"] == {"over_budget": 1, "warning": 0, "new": 1, "removed": 1, "ok": 5}
    # The whole app grew too (main.js and a new chunk): past the 10% growth limit, within its budget.
    assert {f["bundle"]: f["verdict"] for f in newest.summary["flagged"]} == {
        MAIN: "over_budget",
        "__total__": "warning",
    }

    table = newest.summary["delta_table_markdown"]
    assert f"| `{MAIN}` |" in table and "🔴 over budget" in table
    assert "| `static/js/911.[hash].chunk.js` |" in table and "🆕 new" in table
    assert "| `static/js/805.[hash].chunk.js` | - |" in table and "➖ removed" in table
    assert newest.detail.startswith("```")

    # Pushgateway series (contract: build_size_* with app, bundle, compression; __total__ for the app).
    (main_bytes,) = [
        len(c) for p, c in demo_build("1004").items() if p.startswith("static/js/main.") and p.endswith(".js")
    ]
    assert series(newest, "build_size_bytes", bundle=MAIN)["raw"] == main_bytes
    assert series(newest, "build_size_budget_bytes", bundle=MAIN) == {"brotli": 55_000, "gzip": 65_000}
    assert series(newest, "build_size_over_budget", bundle=MAIN) == {None: 1.0}
    assert series(newest, "build_size_over_budget", bundle="__total__") == {None: 0.0}
    assert series(newest, "build_size_warning", bundle="__total__") == {None: 1.0}
    assert set(series(newest, "build_size_bytes", bundle="__total__")) == {"raw", "gzip", "brotli"}
    assert {m.labels["app"] for m in newest.metrics} == {"web"}
    assert not any("805" in m.labels.get("bundle", "") for m in newest.metrics)  # removed: no series

    # Only the changed files were compressed again.
    assert newest.summary["cache"]["hits"] >= 4 and newest.summary["cache"]["compressed_files"] <= 4


def test_history_is_stored_and_a_rerun_replaces_it(s3_client, demo_bucket, results_dsn, repo_config):
    from reliability.core.store import connect

    request = run.BuildRequest(DEMO_APP, "1004")
    (first,) = check([request], s3_client, demo_bucket, results_dsn, repo_config, interval_key="a")
    (again,) = check([request], s3_client, demo_bucket, results_dsn, repo_config, interval_key="b")
    assert again.summary["cache"]["compressed_files"] == 0
    assert again.summary["bytes"] == first.summary["bytes"]
    with connect(results_dsn) as conn:
        history = build_history(conn, DEMO_APP)
        bundles = conn.execute("""SELECT bundle, verdict, brotli_bytes FROM reliability.build_size_bundles
                                  WHERE app = 'web' AND build_id = '1004' ORDER BY bundle""").fetchall()
    assert [(h["build_id"], h["branch"], h["verdict"]) for h in history] == [("1004", "main", "over_budget")]
    assert (MAIN, "over_budget", first.summary["flagged"][0]["bytes"]) in bundles
    assert len(bundles) == 7 and len({b[0] for b in bundles}) == 7


def test_a_build_measured_out_of_order_is_compared_with_the_builds_before_it(
    s3_client, demo_bucket, results_dsn, repo_config
):
    for build_id in ("1004", "1001", "1002"):
        request = run.BuildRequest(DEMO_APP, build_id)
        (outcome,) = check([request], s3_client, demo_bucket, results_dsn, repo_config)
    assert outcome.summary["baseline"]["build_ids"] == ["1001"]  # 1004 is newer than 1002


def test_the_daily_run_checks_the_newest_build_of_every_app(s3_client, demo_bucket, results_dsn, budgets):
    config = budgets("""\
        apps:
          web:
            budgets: [{glob: "main.[hash].js", brotli: 55 kB}]
          admin: {}
        """)
    requests = [run.BuildRequest.from_dict(d) for d in run.plan({"app": None, "build": ""}, config=config)]
    assert requests == [run.BuildRequest("admin"), run.BuildRequest("web")]
    admin, web = check(requests, s3_client, demo_bucket, results_dsn, config)
    assert admin.status == "failed" and admin.alert
    assert admin.headline == "admin build (newest) could not be measured"
    assert "no builds of admin under" in admin.summary["error"]
    assert web.summary["build_id"] == "1004" and web.status == "warning"


def test_a_missing_build_is_a_failed_outcome(s3_client, s3_bucket, results_dsn, repo_config):
    (outcome,) = check([run.BuildRequest("web", "404")], s3_client, s3_bucket, results_dsn, repo_config)
    assert outcome.status == "failed" and outcome.metrics == ()
    assert "build 404 of web" in outcome.summary["error"] and "does not exist" in outcome.summary["error"]


@pytest.fixture
def local_config(tmp_path, repo_config):
    """The repository's budgets with ``tmp_path`` as the one folder local builds may come from."""
    return dataclasses.replace(repo_config, local_build_roots=(tmp_path,))


def test_an_empty_build_is_a_failed_outcome(tmp_path, results_dsn, local_config):
    folder = tmp_path / "empty-build"
    folder.mkdir()
    (folder / "build-info.json").write_text('{"branch": "main"}')
    (outcome,) = check([run.BuildRequest("web", str(folder))], None, None, results_dsn, local_config)
    assert outcome.status == "failed"
    assert outcome.summary["error"].startswith(f"build empty-build of web in {folder} has no files")


def test_a_local_folder_is_checked_on_demand_with_the_branch_given(
    tmp_path, write_build, results_dsn, local_config
):
    files = {p: c for p, c in demo_build("1002").items() if p != "build-info.json"}
    folder = write_build(tmp_path / "pr-77", files)
    request = run.BuildRequest.from_dict(
        run.plan({"app": "web", "build": str(folder), "branch": "feature/x"}, config=local_config)[0]
    )
    (outcome,) = check([request], None, None, results_dsn, local_config)
    assert outcome.status == "success"
    assert outcome.summary["build_id"] == "pr-77" and outcome.summary["branch"] == "feature/x"
    assert outcome.summary["files"] == 7  # the source map is ignored


def test_local_folders_are_refused_unless_under_a_configured_root(tmp_path, write_build, repo_config):
    folder = write_build(tmp_path / "ssl", {"a.js": b"x" * 100})
    assert repo_config.local_build_roots == ()  # none by default
    with pytest.raises(ValueError, match="local folders are off"):
        run.plan({"app": "web", "build": "/etc/ssl"}, config=repo_config)
    elsewhere = dataclasses.replace(repo_config, local_build_roots=(tmp_path / "builds",))
    (tmp_path / "builds").mkdir()
    (tmp_path / "builds" / "escape").symlink_to(folder)  # a link must not lead out of the root
    for path in (str(folder), str(tmp_path / "builds"), str(tmp_path / "builds" / "escape")):
        with pytest.raises(ValueError, match="not inside a folder of local_build_roots"):
            run.plan({"app": "web", "build": path}, config=elsewhere)


def test_a_local_folder_named_like_a_recorded_s3_build_is_refused(
    s3_client, demo_bucket, tmp_path, write_build, results_dsn, local_config
):
    from reliability.core.store import connect

    (s3,) = check([run.BuildRequest(DEMO_APP, "1004")], s3_client, demo_bucket, results_dsn, local_config)
    folder = write_build(tmp_path / "1004", {"static/js/main.0123456789abcdef.js": b"x" * 10})
    (local,) = check([run.BuildRequest(DEMO_APP, str(folder))], None, None, results_dsn, local_config)
    assert local.status == "failed" and "is recorded from S3" in local.summary["error"]
    with connect(results_dsn) as conn:
        (row,) = conn.execute(
            "SELECT source, origin, brotli_bytes FROM reliability.build_size_builds WHERE build_id = '1004'"
        ).fetchall()
    assert row == (row[0], "s3", s3.summary["bytes"]["brotli"]) and "s3://" in row[0]


def test_local_builds_never_join_a_baseline(
    s3_client, demo_bucket, tmp_path, write_build, results_dsn, local_config
):
    local_folder = write_build(tmp_path / "local-1", demo_build("1001"))  # main, built before 1002
    (local,) = check([run.BuildRequest(DEMO_APP, str(local_folder))], None, None, results_dsn, local_config)
    assert local.status == "success" and local.summary["branch"] == "main"
    (s3,) = check([run.BuildRequest(DEMO_APP, "1002")], s3_client, demo_bucket, results_dsn, local_config)
    assert s3.summary["baseline"]["build_ids"] == []


def test_a_build_with_an_empty_bundle_is_a_warning(tmp_path, write_build, results_dsn, local_config):
    folder = write_build(
        tmp_path / "pr-9", {"static/js/main.0123456789abcdef.js": b"", "index.html": b"<p>" * 99}
    )
    (outcome,) = check(
        [run.BuildRequest("web", str(folder), branch="pr-9")], None, None, results_dsn, local_config
    )
    assert outcome.status == "warning"
    assert outcome.headline.startswith(f"web build pr-9: 1 bundle empty ({MAIN}: 0 B before compression")
    assert series(outcome, "build_size_warning", bundle=MAIN) == {None: 1.0}


def test_builds_announced_by_ci_come_first(repo_config):
    announced = [
        {"app": "web", "build_id": "1004"},
        {"app": "web", "build_id": "1004"},
        {"app": "web", "build_id": "1005", "branch": "pr-1"},
    ]
    plan = run.plan({"app": "web", "build": "1"}, announced=announced, config=repo_config)
    assert plan == [
        {"app": "web", "build": "1004", "baseline_branch": None, "branch": None},
        {"app": "web", "build": "1005", "baseline_branch": None, "branch": "pr-1"},
    ]


@pytest.mark.parametrize(
    "params, announced, message",
    [
        ({"app": "mobile"}, [], "app 'mobile' is not configured"),
        ({"app": None, "build": "1004"}, [], "was given without its app"),
        ({"app": "web", "build": "../x"}, [], "is not valid"),
        ({}, [{"app": "web"}], "must name the build"),
        ({}, [{"app": "nope", "build_id": "1"}], "app 'nope' is not configured"),
    ],
)
def test_bad_run_input_is_refused_with_the_reason(params, announced, message, repo_config):
    with pytest.raises(ValueError, match=message):
        run.plan(params, announced=announced, config=repo_config)


def test_the_outcome_metrics_are_accepted_by_a_real_pushgateway(
    s3_client, demo_bucket, results_dsn, repo_config, pushgateway
):
    import urllib.request

    from reliability.adapters.pushgateway import PushgatewayConfig, push_metrics

    (outcome,) = check([run.BuildRequest(DEMO_APP, "1004")], s3_client, demo_bucket, results_dsn, repo_config)
    gateway = PushgatewayConfig(pushgateway.url, attempts=1)
    push_metrics(gateway, outcome.job, outcome.subject, outcome.metrics)
    scraped = urllib.request.urlopen(f"{pushgateway.url}/metrics", timeout=10).read().decode()
    assert (
        'build_size_over_budget{app="web",bundle="static/js/main.[hash].js",instance="",'
        'job="build_size_watchdog"} 1'
    ) in scraped


@pytest.mark.parametrize(
    "sizes, headline",
    [
        ({MAIN: 60_000}, f"web build 7: 1 bundle over budget ({MAIN}: brotli 60.0 kB > budget 55.0 kB)"),
        (
            {MAIN: 60_000, "a.js": 150_000},
            f"web build 7: 1 bundle over budget ({MAIN}: brotli 60.0 kB > budget 55.0 kB); the total too",
        ),
        (
            {"a.js": 120_000, "b.js": 90_000},
            "web build 7: the total is over budget (brotli 210.0 kB > budget 200.0 kB)",
        ),
        ({"a.js": 1_500}, "web build 7 is within budgets: 1.50 kB brotli, no baseline yet"),
        (
            {"a.js": 1_500, "empty.js": 0},
            "web build 7: 1 bundle empty (empty.js: 0 B before compression; check the build step that "
            "writes it, or ignore the file)",
        ),
    ],
)
def test_the_headline_names_the_worst_finding(sizes, headline, repo_config):
    from reliability.buildsize.compare import Baseline, Bundle, compare
    from reliability.buildsize.sizes import Sizes

    web = repo_config.app("web")
    comparison = compare(web, [Bundle(n, 1, Sizes(s * 4, s, s)) for n, s in sizes.items()], Baseline("main"))
    assert headline_of("web", "7", comparison) == headline


def test_a_store_that_is_down_gives_a_failed_outcome_per_app_to_publish(repo_config):
    from stack.processes import free_port

    dsn = f"postgresql://results:s3cretPassw0rd@127.0.0.1:{free_port()}/results"
    (outcome,) = check([run.BuildRequest(DEMO_APP, "1004")], None, None, dsn, repo_config)
    assert outcome.status == "failed" and outcome.alert and outcome.subject == {"app": "web"}
    assert outcome.summary["error"].startswith("results store unreachable, so the build has no baseline")
    assert "s3cretPassw0rd" not in json.dumps(outcome.to_dict())
