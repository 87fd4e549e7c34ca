"""The nightly canary: proof that the verifier can still say ``corrupt``.

A verifier that always says "verified" is worse than none, because its green runs are trusted. So after
each new dump, a damaged copy of a small part of it is verified the same way as any existing dump: its
first megabyte (at most half the dump) read back from S3 and cut off there, so that pg_restore meets
the end of the data mid-way. The verdict must be ``corrupt``. Anything else means this verifier would
pass a damaged dump: the run fails with a critical message and
``reliability_verifier_canary_ok{job="backup_verify"}`` is 0.

It costs one ranged GET and one pg_restore over at most ``CANARY_BYTES``: its seconds and its share of
the run are reported with the outcome.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

from reliability.backup.config import VerifyThresholds
from reliability.backup.verdict import Verdict, judge_read
from reliability.core.formatting import format_bytes

CANARY_BYTES = 1024 * 1024
EXPECTED = "corrupt"


@dataclass(frozen=True)
class CanaryResult:
    """``ok``: the damaged copy was judged corrupt (True), passed (False), or could not be checked (None)."""

    ok: bool | None
    damage: str  # what was done to the copy, for people
    seconds: float
    verdict: str | None = None  # what the verifier said about the damaged copy
    reasons: tuple[str, ...] = ()
    error: str | None = None  # why it could not be checked

    def share_of(self, run_seconds: float) -> float:
        """The canary's share of a run that took ``run_seconds`` besides the canary."""
        total = run_seconds + self.seconds
        return self.seconds / total if total > 0 else 0.0

    def to_dict(self, run_seconds: float) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "damage": self.damage,
            "verdict": self.verdict,
            "reasons": list(self.reasons[:3]),
            "seconds": round(self.seconds, 3),
            "share_of_run": round(self.share_of(run_seconds), 4),
            **({"error": self.error} if self.error else {}),
        }


def verify_bytes(data: bytes, source: str, thresholds: VerifyThresholds, workdir: str | None) -> Verdict:
    """The verifier under test: the same read and rules as a verify-only run of an existing dump."""
    from reliability.backup.verify import read_dump_stream

    return judge_read(read_dump_stream(io.BytesIO(data), source, workdir), thresholds=thresholds)


def run_canary(
    s3, bucket: str, key: str, size_bytes: int, thresholds: VerifyThresholds, workdir: str | None = None
) -> CanaryResult:
    """Verify a truncated copy of the first part of the dump at ``key``; it must come out corrupt."""
    from reliability.backup.upload import describe_error

    started = time.perf_counter()
    keep = min(CANARY_BYTES, size_bytes // 2)
    damage = f"its first {format_bytes(keep)} of {format_bytes(size_bytes)}, cut off there"
    if keep < 1:
        return CanaryResult(None, damage, 0.0, error=f"the dump is too small ({size_bytes} bytes) to damage")
    try:
        data = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{keep - 1}")["Body"].read()
    except Exception as exc:
        return CanaryResult(
            None,
            damage,
            time.perf_counter() - started,
            error=f"could not read s3://{bucket}/{key} for the canary: {describe_error(exc)}",
        )
    verdict = verify_bytes(data[:keep], f"the canary copy of {key}", thresholds, workdir)
    return CanaryResult(
        ok=verdict.verdict == EXPECTED,
        damage=damage,
        seconds=time.perf_counter() - started,
        verdict=verdict.verdict,
        reasons=verdict.reasons,
    )
