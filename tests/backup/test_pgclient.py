from reliability.backups.pgclient import sort_stderr_line


def _sorted(program, lines, *, plain_is_error):
    errors, warnings = [], []
    for line in lines:
        sort_stderr_line(program, line, errors, warnings, plain_is_error=plain_is_error)
    return errors, warnings


def test_levels_details_and_hints_are_filed_under_errors_and_warnings():
    errors, warnings = _sorted(
        "pg_restore",
        [
            "pg_restore: error: could not read from input file: end of file",
            "pg_restore: detail: the archive is truncated",
            "pg_restore: hint: dump it again",
            "pg_restore: warning: errors ignored on restore: 1",
            "",
        ],
        plain_is_error=True,
    )
    assert errors == [
        "could not read from input file: end of file (detail: the archive is truncated) (hint: dump it again)"
    ]
    assert warnings == ["errors ignored on restore: 1"]


def test_a_line_without_a_level_is_an_error_only_when_asked():
    lines = ["pg_dump: detail: before any error", "server closed the connection unexpectedly"]
    assert _sorted("pg_dump", lines, plain_is_error=True) == (
        ["detail: before any error", "server closed the connection unexpectedly"],
        [],
    )
    assert _sorted("pg_dump", lines, plain_is_error=False) == ([], [])


def test_only_the_named_programs_prefix_is_removed():
    errors, _ = _sorted("pg_dump", ["pg_restore: error: elsewhere"], plain_is_error=True)
    assert errors == ["pg_restore: error: elsewhere"]
