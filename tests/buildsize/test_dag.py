"""The build_size_watchdog DAG's trigger form refuses a bad build before any task runs (issue 15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VALUES = ["1004", "20260105.3", "rc-1+build.7", "/srv/builds/pr-77", "", None]
BAD = ["../../etc", "/srv/builds/../../etc/ssl", "a b", "x/y", "-rf", "/etc/ssl\nx", "$(id)"]

# Airflow validates a triggered run's conf against the DAG's Params (jsonschema) exactly like this.
VALIDATE = r"""
import copy, json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.param import ParamsDict
dag = DagBag(dag_folder="dags/build_size_watchdog.py", safe_mode=False).dags["build_size_watchdog"]
out = {}
for value in json.loads(sys.argv[1]):
    params = ParamsDict(copy.deepcopy(dag.params))
    try:
        params["app"] = "web"
        params["build"] = value
        params.validate()
        out[json.dumps(value)] = "ok"
    except Exception as exc:
        out[json.dumps(value)] = type(exc).__name__
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def verdicts():
    result = subprocess.run(
        [sys.executable, "-c", VALIDATE, json.dumps(VALUES + BAD)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'include'}:{ROOT}"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {json.loads(k): v for k, v in json.loads(result.stdout.strip().splitlines()[-1]).items()}


@pytest.mark.parametrize("value", VALUES)
def test_the_form_accepts_build_ids_and_absolute_folders(verdicts, value):
    assert verdicts[value] == "ok"


@pytest.mark.parametrize("value", BAD)
def test_the_form_refuses_a_build_that_is_neither_an_id_nor_a_clean_folder(verdicts, value):
    assert verdicts[value] == "ParamValidationError"
