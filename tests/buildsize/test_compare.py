import pytest
from hypothesis import given
from hypothesis import strategies as st

from reliability.buildsize.budgets import Limits
from reliability.buildsize.compare import (
    TOTAL,
    Baseline,
    Bundle,
    compare,
    judge,
    markdown_table,
    median_baseline,
    mrkdwn_table,
)
from reliability.buildsize.sizes import COMPRESSIONS, ZERO, Sizes

CONFIG = """\
defaults:
  max_growth_percent: 10
  min_change_bytes: 1 kB
apps:
  web:
    budgets:
      - glob: "main.[hash].js"
        brotli: 50 kB
        gzip: 60 kB
      - glob: "*.css"
        brotli: 10 kB
    total:
      brotli: 200 kB
"""


@pytest.fixture
def web(budgets):
    return budgets(CONFIG).app("web")


def br(n: int) -> Sizes:
    """Sizes where gzip and raw follow brotli, so only brotli decides."""
    return Sizes(raw=n * 4, gzip=n + n // 10, brotli=n)


def baseline(bundles: dict[str, Sizes], builds=("1003", "1002", "1001")) -> Baseline:
    return Baseline("main", builds, bundles, sum(bundles.values(), ZERO))


def row(comparison, name):
    (found,) = [r for r in (*comparison.rows, comparison.total) if r.bundle == name]
    return found


def test_a_bundle_over_its_budget_is_over_budget_with_the_reason(web):
    result = compare(web, [Bundle("static/js/main.[hash].js", 1, br(52_000))], baseline({}, ()))
    main = row(result, "static/js/main.[hash].js")
    assert main.verdict == "over_budget"
    assert main.reasons == ("brotli 52.0 kB > budget 50.0 kB",)
    assert result.verdict == "over_budget"


def test_an_empty_bundle_is_a_warning_even_within_budgets_and_unchanged(web):
    before = {"main.[hash].js": br(20_000), "empty.[hash].js": Sizes(0, 20, 1)}
    bundles = [Bundle("main.[hash].js", 1, br(20_000)), Bundle("empty.[hash].js", 1, Sizes(0, 20, 1))]
    result = compare(web, bundles, baseline(before))
    empty = row(result, "empty.[hash].js")
    assert empty.verdict == "warning" and empty.label == "empty"
    assert empty.reasons == (
        "0 B before compression; check the build step that writes it, or ignore the file",
    )
    assert result.verdict == "warning" and row(result, "main.[hash].js").verdict == "ok"
    assert "| `empty.[hash].js` | 1 B | ±0 B (+0.0%) | - | 🟡 empty |" in markdown_table(result)
    assert "EMPTY" in mrkdwn_table(result)


def test_a_bundle_that_stays_over_budget_stays_flagged(web):
    before = {"main.[hash].js": br(52_000)}
    result = compare(web, [Bundle("main.[hash].js", 1, br(52_000))], baseline(before))
    assert row(result, "main.[hash].js").verdict == "over_budget"


def test_growth_over_the_limit_is_a_warning(web):
    result = compare(web, [Bundle("app.[hash].js", 1, br(23_000))], baseline({"app.[hash].js": br(20_000)}))
    app = row(result, "app.[hash].js")
    assert app.verdict == "warning"
    assert app.delta("brotli") == 3000 and app.delta_percent("brotli") == pytest.approx(15.0)
    assert "over the 10% growth limit" in app.reasons[0]
    assert result.verdict == "warning"


def test_growth_below_the_minimum_change_is_not_flagged(web):
    # +50% but only 500 bytes: below min_change_bytes (1 kB), so nothing to see.
    result = compare(web, [Bundle("tiny.js", 1, br(1500))], baseline({"tiny.js": br(1000)}))
    assert row(result, "tiny.js").verdict == "ok"


def test_growth_within_the_limit_and_shrinking_are_ok(web):
    result = compare(
        web,
        [Bundle("a.js", 1, br(21_000)), Bundle("b.js", 1, br(5_000))],
        baseline({"a.js": br(20_000), "b.js": br(9_000)}),
    )
    assert [r.verdict for r in result.rows] == ["ok", "ok"]
    assert result.verdict == "ok"


def test_bundles_on_one_side_only_are_new_or_removed(web):
    result = compare(
        web,
        [Bundle("a.js", 1, br(1_000)), Bundle("new.js", 2, br(3_000))],
        baseline({"a.js": br(1_000), "gone.js": br(4_000)}),
    )
    assert row(result, "new.js").verdict == "new"
    gone = row(result, "gone.js")
    assert gone.verdict == "removed" and gone.sizes is None and gone.delta("brotli") is None
    assert result.verdict == "ok"
    assert result.counts() == {"over_budget": 0, "warning": 0, "new": 1, "removed": 1, "ok": 1}


def test_a_new_bundle_over_budget_is_over_budget(web):
    result = compare(web, [Bundle("style.[hash].css", 1, br(12_000))], baseline({"a.js": br(1)}))
    assert row(result, "style.[hash].css").verdict == "over_budget"


def test_without_any_baseline_nothing_is_new_and_only_budgets_apply(web):
    bundles = [Bundle("a.js", 1, br(100_000)), Bundle("main.[hash].js", 1, br(40_000))]
    result = compare(web, bundles, Baseline("main"))
    assert [r.verdict for r in result.rows] == ["ok", "ok"]
    assert result.total.baseline is None and result.total.verdict == "ok"


def test_the_total_has_its_own_budget_and_growth_rule(web):
    bundles = [Bundle(f"chunk{i}.js", 1, br(30_000)) for i in range(7)]  # 210 kB > 200 kB total budget
    result = compare(web, bundles, baseline({f"chunk{i}.js": br(30_000) for i in range(7)}))
    assert result.total.bundle == TOTAL
    assert result.total.verdict == "over_budget" and result.total.files == 7
    assert all(r.verdict == "ok" for r in result.rows)
    assert result.verdict == "over_budget"


def test_the_baseline_is_the_median_of_the_recent_builds_and_ignores_one_outlier():
    builds = [
        ("1005", {"a.js": br(100), "b.js": br(10)}),
        ("1004", {"a.js": br(9_000)}),
        ("1003", {"a.js": br(104), "gone.js": br(50)}),
        ("1002", {"a.js": br(98), "b.js": br(12)}),
    ]
    result = median_baseline("main", builds)
    assert result.build_ids == ("1005", "1004", "1003", "1002")
    assert set(result.bundles) == {"a.js", "b.js"}  # the newest build's bundles
    assert result.bundles["a.js"].brotli == 102  # median of 100, 9000, 104, 98
    assert result.bundles["b.js"].brotli == 11  # median of the builds that have it
    assert result.total.brotli == round((110 + 154) / 2)  # totals 110, 9000, 154, 110 -> 132


def test_the_markdown_table_lists_what_changed_like_a_size_bot(web):
    main = "static/js/main.[hash].js"
    result = compare(
        web,
        [Bundle(main, 1, br(52_000)), Bundle("new|odd.js", 1, br(3_000)), Bundle("same.js", 1, br(7_000))],
        baseline({main: br(40_000), "same.js": br(7_000), "gone.js": br(2_000)}),
    )
    table = markdown_table(result)
    lines = table.splitlines()
    assert lines[0] == "| Bundle | Size (brotli) | Change | Budget | Status |"
    assert lines[2] == f"| `{main}` | 52.0 kB | +12.0 kB (+30.0%) | 50.0 kB | 🔴 over budget |"
    assert "| `new\\|odd.js` | 3.00 kB | new | - | 🆕 new |" in lines
    assert "| `gone.js` | - | -2.00 kB | - | ➖ removed |" in lines
    assert lines[-3] == "| **Total** | 62.0 kB | +13.0 kB (+26.5%) | 200.0 kB | 🟡 grew |"
    assert lines[-1] == "1 more bundle(s) unchanged or below the change threshold."
    assert "same.js" not in table


def test_the_slack_table_is_an_aligned_code_block(web):
    long_name = "static/js/" + "very-long-folder-name/" * 3 + "app.[hash].js"
    result = compare(web, [Bundle(long_name, 1, br(52_000))], baseline({long_name: br(40_000)}))
    text = mrkdwn_table(result)
    lines = text.splitlines()
    assert lines[0] == "```" and lines[-1] == "```"
    body = lines[1:-1]
    assert body[1].startswith("…") and body[1].endswith("GREW")
    assert body[2].startswith("TOTAL")
    status_column = body[0].index("status")
    assert all(len(line) >= status_column for line in body)


limits_strategy = st.builds(
    Limits,
    raw=st.none() | st.integers(0, 10**6),
    gzip=st.none() | st.integers(0, 10**6),
    brotli=st.none() | st.integers(0, 10**6),
    max_growth_percent=st.floats(0, 500),
    min_change_bytes=st.integers(0, 10**5),
)
sizes_strategy = st.builds(Sizes, st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))


@given(sizes_strategy, st.none() | sizes_strategy, limits_strategy, st.sampled_from(COMPRESSIONS))
def test_judge_properties(sizes, before, limits, compression):
    verdict, reasons = judge(sizes, before, limits, compression)
    exceeds = any(
        b is not None and sizes.get(c) > b
        for c, b in (("raw", limits.raw), ("gzip", limits.gzip), ("brotli", limits.brotli))
    )
    assert (verdict == "over_budget") == exceeds
    if not exceeds and sizes.raw == 0:
        assert verdict == "warning"  # an empty bundle is never ok
    elif verdict == "warning":
        delta = sizes.get(compression) - before.get(compression)
        assert delta >= limits.min_change_bytes and delta > 0
        base = before.get(compression)
        assert base == 0 or delta * 100 / base > limits.max_growth_percent
    if before is None and sizes.raw:
        assert verdict != "warning"
    assert bool(reasons) == (verdict != "ok")


@given(
    st.dictionaries(st.text(min_size=1, max_size=8), sizes_strategy, max_size=8),
    st.dictionaries(st.text(min_size=1, max_size=8), sizes_strategy, max_size=8),
)
def test_compare_covers_every_bundle_once_and_totals_add_up(current, previous):
    from reliability.buildsize.config import parse_config

    web = parse_config("apps:\n  web: {}\n").app("web")
    result = compare(web, [Bundle(n, 1, s) for n, s in current.items()], baseline(previous))
    assert sorted(r.bundle for r in result.rows) == sorted(set(current) | set(previous))
    assert result.total.sizes == sum(current.values(), ZERO)
    for r in result.rows:
        if r.bundle in current and r.bundle in previous:
            assert r.delta("gzip") == current[r.bundle].gzip - previous[r.bundle].gzip


def test_a_long_table_says_how_many_changed_bundles_it_leaves_out(web):
    bundles = [Bundle(f"chunk{i:02d}.js", 1, br(5_000 + 100 * i)) for i in range(30)]
    result = compare(web, bundles, baseline({f"chunk{i:02d}.js": br(2_000) for i in range(30)}))
    table = markdown_table(result, max_rows=20)
    assert table.count("🟡 grew") == 21  # 20 bundles and the total
    assert table.endswith(
        "\n\n10 more changed bundle(s) not shown (all are in reliability.build_size_bundles)."
    )
    assert "chunk29.js" in table and "chunk00.js" not in table  # the largest changes come first
