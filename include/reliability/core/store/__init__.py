"""The results store: schema ``reliability`` in the results database, written by every job.

Writes are idempotent per (job, interval): a rerun of the same interval replaces its rows.
"""

from reliability.core.store.db import connect, migrate
from reliability.core.store.runs import RunRecord, latest_runs, record_run

__all__ = ["connect", "migrate", "RunRecord", "record_run", "latest_runs"]
