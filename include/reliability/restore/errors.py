"""What a failed restore test reports: the step, the check and (where there is one) the table.

A :class:`CheckFailed` is a finding, not a crash: the run goes on to drop the scratch database and
publish a failed outcome naming it. Anything else raised by a step is a crash (a server down, a bug): the
Airflow task fails and is retried.
"""

from __future__ import annotations


class CheckFailed(Exception):
    """A restore-test check failed; ``str()`` is the operator-facing message."""

    check = "unknown"

    def __init__(self, message: str, *, check: str | None = None, table: str | None = None):
        super().__init__(message)
        self.message = message
        if check:
            self.check = check
        self.table = table


class UnsafeScratch(CheckFailed):
    """The scratch target could hit something that is not a scratch database; nothing was touched."""

    check = "scratch_safety"


class NoVerifiedBackup(CheckFailed):
    check = "verified_backup"

    def __init__(
        self, message: str, *, check: str | None = None, newest=None, age_seconds: float | None = None
    ):
        super().__init__(message, check=check)
        self.newest = newest  # the newest verified backup, when it exists but is too old
        self.age_seconds = age_seconds


class DownloadRejected(CheckFailed):
    """The downloaded object is not the one the backup job verified (or could not be stored to check it)."""

    check = "sha256"


class RestoreFailed(CheckFailed):
    check = "pg_restore"


class ExpectationsConfigError(CheckFailed):
    """The expectations file is wrong (a typo, a column the backup lacks): the operator's to fix.

    Reported as a configuration error: the backup was not judged, and no restore verdict is pushed."""

    check = "expectations_config"


CONFIG_CHECKS = (ExpectationsConfigError.check,)
