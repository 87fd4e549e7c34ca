"""The exception a job's last task raises when the run's outcome is a failure."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowFailException


class JobFailed(AirflowFailException):
    """The job ran and published, and what it found is a failure (a corrupt backup, a failed restore...).

    An ``AirflowFailException``: retrying would not change the verdict."""
