#!/usr/bin/env bash
# The demo: install what is missing, start the local stack, run every DAG once through Airflow, summarise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh demo
export PYTHONPATH="$PWD/include:$PWD"
.venv/bin/python -m stack up
.venv/bin/python -m stack.demo
