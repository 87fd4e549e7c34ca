"""Operate-test probe: a run that can outlive its Deadline Alert.

The ``seconds`` Param sets how long the only task works; the deadline is a minute after the run is
queued, so ``seconds=0`` finishes in time and five minutes do not. Loaded from its own DAG bundle by the
operate tests only; it is not one of the project's jobs.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pendulum
from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference, Param, dag, task

from reliability.airflow.deadlines import notify_deadline_missed
from reliability.airflow.defaults import DEFAULT_ARGS

DEADLINE_SECONDS = 60


@dag(
    dag_id="operate_deadline_probe",
    description=__doc__.partition(".")[0],
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=2,
    tags=["operate-test"],
    default_args=DEFAULT_ARGS,
    params={
        "seconds": Param(
            0,
            type="integer",
            minimum=0,
            maximum=300,
            title="Work for (s)",
            description="How long the task runs before it succeeds",
        )
    },
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(seconds=DEADLINE_SECONDS),
        callback=AsyncCallback(
            notify_deadline_missed,
            kwargs={"expected": f"finishes within {DEADLINE_SECONDS} s of being queued"},
        ),
    ),
)
def operate_deadline_probe():
    @task
    def work(params=None):
        time.sleep(params["seconds"])

    work()


operate_deadline_probe()
