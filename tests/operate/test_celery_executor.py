"""The CeleryExecutor path (the docker-compose stack's, when one machine is not enough): a local Redis broker,
results in the metadata database, and two workers, worker-a and worker-b, one task slot each.

A checksum run over more data than one shard may hold is split into mapped ``validate_shard`` tasks
(dynamic task mapping); the scheduler queues them together and each worker takes one, which the REST
API shows in each task instance's ``hostname``.
"""
from __future__ import annotations

import hashlib
import os

import pytest

from tests.operate.support import existing_project_dags


PREFIX = "operate-large/"
# checksum.yaml keeps shards at 256 MiB or more: two objects just over half that make exactly two shards.
OBJECT_MIB = 129


def seed_large_objects(s3, bucket: str, count: int = 2) -> list[str]:
    keys = []
    for index in range(count):
        body = os.urandom(1 << 20) * OBJECT_MIB
        key = f"{PREFIX}export-{index}.bin"
        s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata={"sha256": hashlib.sha256(body).hexdigest()})
        keys.append(key)
    return keys


def test_checksum_shards_triggered_over_the_api_run_on_both_celery_workers(celery_airflow):
    if "checksum_validation" not in existing_project_dags():
        pytest.skip("dags/checksum_validation.py does not exist (yet)")
    airflow = celery_airflow
    keys = seed_large_objects(airflow.world.s3, airflow.world.bucket)
    assert airflow.api.unpause("checksum_validation")["is_paused"] is False
    conf = airflow.ui_conf("checksum_validation", prefixes=[PREFIX], full=True)
    run = airflow.trigger_and_wait("checksum_validation", conf, timeout=300)
    assert run["state"] == "success", airflow.explain("checksum_validation", run)

    instances = airflow.api.task_instances("checksum_validation", run["dag_run_id"])
    shards = [ti for ti in instances if ti["task_id"] == "validate_shard"]
    assert sorted(ti["map_index"] for ti in shards) == [0, 1]
    assert {ti["hostname"] for ti in shards} == set(airflow.workers), \
        [(ti["map_index"], ti["hostname"], ti["start_date"], ti["end_date"]) for ti in shards]
    # Every other task ran on a worker too: the scheduler runs none itself under Celery.
    assert {ti["hostname"] for ti in instances} <= set(airflow.workers)

    # Both objects were read in full (one per shard) and matched their recorded SHA-256.
    (row,) = airflow.runs_rows("checksum_validation", run["dag_run_id"])
    assert row["status"] == "success"
    assert row["summary"]["counts"]["ok"] == len(keys)
    assert row["summary"]["verified_bytes"] == len(keys) * OBJECT_MIB << 20
