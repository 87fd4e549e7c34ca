#!/usr/bin/env bash
# The whole test suite: install what is missing, then pytest (each test session starts its own servers).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test || exit 1
mkdir -p test-artifacts
# Lint and format first: seconds, and a failure here names the file and line.
.venv/bin/ruff check . || exit 1
.venv/bin/ruff format --check . || exit 1
.venv/bin/python -m pytest -p no:cacheprovider --timeout=900 -n "${PYTEST_WORKERS:-2}" --dist loadscope \
  --junitxml=test-artifacts/junit.xml "$@"
status=$?
# pytest exits 5 when it collected no tests: that is a failure of the suite, not a pass.
if [ "$status" -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
exit "$status"
