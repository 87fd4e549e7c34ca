"""Operate-test probe: one task mapped over ``shards`` items, to see where mapped tasks run.

Each mapped task instance works ``seconds`` so that several are in flight at once. Loaded from its own
DAG bundle by the operate tests only; it is not one of the project's jobs.
"""
from __future__ import annotations

import time

import pendulum
from airflow.sdk import Param, dag, task

from reliability.dag_defaults import DEFAULT_ARGS


@dag(
    dag_id="operate_mapped_probe",
    description=__doc__.partition(".")[0],
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["operate-test"],
    default_args=DEFAULT_ARGS,
    params={"shards": Param(8, type="integer", minimum=1, maximum=64, title="Shards"),
            "seconds": Param(2, type="integer", minimum=0, maximum=60, title="Work per shard (s)")},
)
def operate_mapped_probe():
    @task
    def plan(params=None) -> list[int]:
        return list(range(params["shards"]))

    @task
    def work(shard: int, params=None) -> int:
        time.sleep(params["seconds"])
        return shard

    work.expand(shard=plan())


operate_mapped_probe()
