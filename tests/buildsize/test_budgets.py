import re
from pathlib import Path

import pytest

from reliability.buildsize.config import DEFAULT_CONFIG, load_config
from reliability.buildsize.globs import compile_glob
from reliability.buildsize.sizes import parse_size
from reliability.core.config import ConfigError

VALID = """\
version: 1
defaults:
  baseline_builds: 3
  min_change_bytes: 2 kB
apps:
  web:
    baseline_branch: develop
    budgets:
      - glob: "static/js/main.[hash].js"
        brotli: 50 kB
        gzip: 60000
      - glob: "**/*.js"
        brotli: 1 MiB
        max_growth_percent: 25
    total:
      brotli: 300 kB
  admin:
    ignore: ["**/*.txt"]
"""


def test_the_repository_budget_file_loads_with_its_rules():
    config = load_config(DEFAULT_CONFIG)
    web = config.app("web")
    main, _ = web.limits_for("static/js/main.[hash].js")
    assert (main.brotli, main.gzip, main.raw) == (55_000, 65_000, None)
    assert web.total.brotli == 200_000
    assert web.ignores("static/js/main.[hash].js.map")
    assert web.bundle_name("static/js/main.0badc0de.js") == "static/js/main.[hash].js"


def test_app_settings_override_defaults_and_rules_override_growth(budgets):
    config = budgets(VALID)
    web, admin = config.app("web"), config.app("admin")
    assert (web.baseline_branch, web.baseline_builds) == ("develop", 3)
    assert (admin.baseline_branch, admin.baseline_builds) == ("main", 3)
    main, rule = web.limits_for("static/js/main.[hash].js")
    assert rule.line == 9 and main.brotli == 50_000 and main.gzip == 60_000
    assert main.min_change_bytes == 2000 and main.max_growth_percent == 10
    other, rule = web.limits_for("static/js/other.js")
    assert other.brotli == 1024 * 1024 and other.max_growth_percent == 25 and rule.line == 12
    unmatched, rule = web.limits_for("index.html")
    assert rule is None and unmatched.budgets == {}
    assert admin.ignores("a/b/LICENSE.txt") and not web.ignores("a/b/LICENSE.txt")


def test_the_first_matching_rule_gives_the_limits(budgets):
    web = budgets(VALID).app("web")
    assert web.limits_for("static/js/main.[hash].js")[0].brotli == 50_000  # not the later **/*.js rule


@pytest.mark.parametrize(
    "typo_line, typo, suggestion",
    [
        (11, "        brotl: 50 kB", "brotli"),
        (7, "    baseline_brnch: develop", "baseline_branch"),
        (3, "  min_change: 2 kB", "min_change_bytes"),
    ],
)
def test_an_unknown_key_is_an_error_naming_the_file_line_and_likely_key(typo_line, typo, suggestion, budgets):
    lines = VALID.splitlines()
    lines.insert(typo_line - 1, typo)
    with pytest.raises(ConfigError) as caught:
        budgets("\n".join(lines), source="include/config/build_budgets.yaml")
    message = str(caught.value)
    assert message.startswith(f"include/config/build_budgets.yaml, line {typo_line}: unknown key")
    assert f"did you mean {suggestion!r}" in message


def test_an_unknown_top_level_key_is_an_error(budgets):
    with pytest.raises(ConfigError, match=r"line 1: unknown key 'app' in the budget file"):
        budgets("app:\n  web: {}\n")


@pytest.mark.parametrize(
    "glob, reason",
    [
        ("static/[js/main.js", "'[' is never closed"),
        ("static/{a,b/main.js", "'{' is never closed"),
        ("static/a**/main.js", "must be a whole path segment"),
        ("/static/main.js", "starts with '/'"),
        ("static/}.js", "without a matching '{'"),
        ("[]", "empty character class"),
    ],
)
def test_a_bad_glob_is_an_error_naming_the_line(glob, reason, budgets):
    text = VALID.replace('"**/*.js"', f'"{glob}"')
    with pytest.raises(ConfigError) as caught:
        budgets(text)
    assert caught.value.args[0].startswith("budgets.yaml, line 12: bad glob")
    assert reason in str(caught.value)


def test_a_bad_ignore_glob_is_an_error_naming_its_line(budgets):
    with pytest.raises(ConfigError, match=r"line 18: bad glob '\*\*/\{a.txt'"):
        budgets(VALID.replace('ignore: ["**/*.txt"]', 'ignore: ["**/{a.txt"]'))


def test_a_duplicate_key_names_both_lines(budgets):
    text = VALID.replace("      brotli: 300 kB", "      brotli: 300 kB\n      brotli: 200 kB")
    with pytest.raises(ConfigError, match=r"line 17: duplicate key 'brotli' .*first on line 16"):
        budgets(text)


@pytest.mark.parametrize(
    "replacement, message",
    [
        ("brotli: 50 kiloB", r"line 10: .*unknown unit 'kiloB'"),
        ("brotli: -5", r"line 10: .*negative"),
        ("brotli: [1]", r"line 10: expected a single value"),
    ],
)
def test_a_bad_size_is_an_error_naming_the_line(replacement, message, budgets):
    with pytest.raises(ConfigError, match=message):
        budgets(VALID.replace("brotli: 50 kB", replacement))


def test_a_bad_name_pattern_is_an_error_naming_the_line(budgets):
    text = VALID.replace(
        "  min_change_bytes: 2 kB", "  min_change_bytes: 2 kB\n  name_patterns:\n    - '[0-9a-f]{8}'"
    )
    with pytest.raises(ConfigError, match=r"line 6: name pattern .* has no named group"):
        budgets(text)


@pytest.mark.parametrize(
    "replacement, message",
    [
        ("baseline_builds: 3", "baseline_builds: 0"),
        ("baseline_builds: 3", "baseline_builds: three"),
    ],
)
def test_out_of_range_settings_are_errors_naming_the_line(replacement, message, budgets):
    with pytest.raises(ConfigError, match=r"line 3: baseline_builds in defaults must be"):
        budgets(VALID.replace(replacement, message))


def test_yaml_syntax_errors_name_the_line(budgets):
    with pytest.raises(ConfigError, match=r"line 3: not valid YAML: mapping values are not allowed"):
        budgets("apps:\n  web:\n    total: brotli: 5 kB\n")


def test_a_rule_without_limits_is_an_error(budgets):
    with pytest.raises(ConfigError, match=r"line 4: budget #1 of app 'web' sets no limit"):
        budgets('apps:\n  web:\n    budgets:\n      - glob: "*.js"\n')


def test_an_unknown_app_lists_the_configured_ones(budgets):
    with pytest.raises(ValueError, match=r"app 'mobile' is not configured in .* \(configured: admin, web\)"):
        budgets(VALID).app("mobile")


@pytest.mark.parametrize(
    "roots, message",
    [
        ("[builds]", r"line 1: 'builds' in local_build_roots must be an absolute path"),
        ('["/srv/../etc"]', r"line 1: '/srv/../etc' in local_build_roots must be an absolute path without"),
        ('["/"]', r"line 1: local_build_roots must not hold '/'"),
    ],
)
def test_local_build_roots_must_be_absolute_folders(roots, message, budgets):
    with pytest.raises(ConfigError, match=message):
        budgets(f"local_build_roots: {roots}\napps:\n  web: {{}}\n")
    assert budgets('local_build_roots: ["/srv/builds"]\napps:\n  web: {}\n').local_build_roots == (
        Path("/srv/builds"),
    )


def test_a_missing_budget_file_says_which_file(tmp_path):
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "nope.yaml"))):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "glob, path, matches",
    [
        ("static/js/main.[hash].js", "static/js/main.[hash].js", True),
        ("static/js/main.[hash].js", "static/js/main.h.js", False),
        ("main.[hash].js", "static/js/main.[hash].js", True),
        ("*.css", "static/css/main.[hash].css", True),
        ("static/*.css", "static/css/main.css", False),
        ("static/**/*.css", "static/main.css", True),
        ("static/**/*.css", "static/a/b/main.css", True),
        ("static/**", "static/a/b/c.js", True),
        ("*.{js,mjs}", "a/b.mjs", True),
        ("*.{js,mjs}", "a/b.cjs", False),
        ("file?.js", "file1.js", True),
        ("[!a]x.js", "bx.js", True),
        ("[!a]x.js", "ax.js", False),
        ("ファイル*.js", "deep/ファイル-1.js", True),
    ],
)
def test_glob_matching(glob, path, matches):
    assert compile_glob(glob).matches(path) is matches


@pytest.mark.parametrize(
    "text, size",
    [
        (1500, 1500),
        ("1500", 1500),
        ("150 kB", 150_000),
        ("150kb", 150_000),
        ("1.5 MiB", 1_572_864),
        ("2 KiB", 2048),
        ("1 MB", 1_000_000),
        ("12 B", 12),
    ],
)
def test_sizes_are_read_with_si_and_iec_units(text, size):
    assert parse_size(text) == size
