"""The project's Assets: "a new verified backup of <database> exists", and "a new front-end build".

``build_size_watchdog/builds``: CI announces a build with an event whose extra names app and build id.


checksum_validation and restore_test schedule on :data:`BACKUP_ASSETS` (or one :func:`backup_asset`).
backup_verify emits events for them through :data:`BACKUP_ALIAS`, and only for the databases whose new
dump was read back completely (verdict verified or suspicious): a task's declared outlets would emit
for every database whenever the task succeeds, a corrupt or failed dump included. Each event's extra
names the object (bucket, key, manifest key, SHA-256), so a follower knows exactly which dump is new.

Identity: ``name="backup_verify/<db>"`` with the private URI scheme ``x-reliability://backups/<db>``.
The asset stands for "the backups of <db>", not one object, and must be the same in every environment;
the bucket is a connection detail (MinIO locally, S3 in production), so it is in the event, not the URI.

Imported by DAG files at parse time: airflow.sdk and the backup config (PyYAML) only.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, AssetAlias

from reliability.backup.config import load_config

BUILDS = Asset("build_size_watchdog/builds")
BACKUP_ALIAS = AssetAlias("backup_verify/verified-backups", group="backup")


def backup_asset(database: str) -> Asset:
    return Asset(name=f"backup_verify/{database}", uri=f"x-reliability://backups/{database}", group="backup")


BACKUP_ASSETS: list[Asset] = [backup_asset(db.name) for db in load_config().databases]


def announce_verified_backups(outcomes: list[dict[str, Any]], outlet_events) -> list[str]:
    """Add an event to each database's asset whose new dump is usable; return those databases."""
    announced = []
    for outcome in outcomes:
        summary = outcome.get("summary") or {}
        if summary.get("mode") != "backup" or summary.get("verdict") not in ("verified", "suspicious"):
            continue
        database = summary["database"]
        outlet_events[BACKUP_ALIAS].add(
            backup_asset(database),
            extra={
                "bucket": summary.get("bucket"),
                "dump_key": summary.get("dump_key"),
                "manifest_key": summary.get("manifest_key"),
                "sha256": summary.get("sha256"),
                "size_bytes": summary.get("size_bytes"),
                "verdict": summary.get("verdict"),
                "dumped_at": summary.get("dumped_at"),
            },
        )
        announced.append(database)
    return announced
