"""Judge one read object against every expectation it has.

* the size first: a manifest's size, or the listed size of the very version read (same ETag), differing
  from the bytes read is ``size_mismatch``;
* then every expectation: all agree -> ``ok``; all disagree -> ``mismatch``; some agree and some do not
  -> ``conflict``, a finding of its own (never counted as verified: which source is right is unknown);
* with no expectation that could be checked, ``unverifiable``, with the reason (no integrity data at
  all, an SSE-KMS or SSE-C ETag, a malformed checksum, part sizes unknown).

The verdict's ``source`` is the most trusted source checked (the one that caught a mismatch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reliability.checksum.digests import StreamDigests
from reliability.checksum.sources import NO_INTEGRITY_DATA, PARTS_UNKNOWN, Expectation, Found

OK, MISMATCH, SIZE_MISMATCH, MISSING, UNVERIFIABLE, CONFLICT = (
    "ok",
    "mismatch",
    "size_mismatch",
    "missing",
    "unverifiable",
    "conflict",
)
VERDICTS = (OK, MISMATCH, SIZE_MISMATCH, MISSING, UNVERIFIABLE, CONFLICT)


@dataclass(frozen=True)
class Judgement:
    outcome: str
    source: str | None = None
    agreeing: tuple[str, ...] = ()
    disagreeing: tuple[str, ...] = ()
    reason: str | None = None  # why unverifiable
    expected_sha256: str | None = None  # hex, when the deciding source is a SHA-256
    expected_size: int | None = None
    notes: tuple[str, ...] = ()


def algorithms_for(expectations: Sequence[Expectation]) -> tuple[set[str], set[str]]:
    """(whole-object algorithms, per-part algorithms) one pass must compute; SHA-256 always (the
    inventory's fingerprint of the bytes read)."""
    whole = {"sha256"} | {e.algorithm for e in expectations if not e.per_part}
    return whole, {e.algorithm for e in expectations if e.per_part}


def actual_for(expectation: Expectation, digests: StreamDigests) -> bytes | None:
    """What the bytes read give for ``expectation``'s algorithm (None: part boundaries unknown)."""
    if not expectation.per_part:
        return digests.digest(expectation.algorithm)
    combined = digests.composite(expectation.algorithm)
    if combined is None:
        return None
    value, count = combined
    if expectation.parts and count != expectation.parts:
        return None
    return value


def judge(
    found: Found,
    digests: StreamDigests,
    *,
    listed_size: int | None = None,
    notes: Sequence[str] = (),
) -> Judgement:
    """The verdict on the bytes fed to ``digests``; ``listed_size`` only when the listed version was read."""
    collected = list(notes) + found.notes
    expectations = found.expectations
    top = expectations[0] if expectations else None
    manifest_size = next((e.size for e in expectations if e.size is not None), None)
    sha = next((e for e in expectations if e.algorithm == "sha256" and not e.per_part), None)
    common = {"expected_sha256": sha.value.hex() if sha else None, "expected_size": manifest_size}

    for size, what in ((manifest_size, "the manifest"), (listed_size, "the listing of this version")):
        if size is not None and digests.size != size:
            collected.append(f"read {digests.size:,} bytes; {what} says {size:,}")
            return Judgement(
                SIZE_MISMATCH,
                source=top.source if top else None,
                notes=tuple(collected),
                **common,
            )

    agreeing, disagreeing = [], []
    for expectation in expectations:
        actual = actual_for(expectation, digests)
        if actual is None:
            found.skip(f"{expectation.label} not checked: the part boundaries are not known", PARTS_UNKNOWN)
            continue
        (agreeing if actual == expectation.value else disagreeing).append(expectation)
    collected = list(notes) + found.notes
    checked = sorted(agreeing + disagreeing, key=lambda e: expectations.index(e))
    if not checked:
        reason = found.reasons[0] if found.reasons else NO_INTEGRITY_DATA
        return Judgement(UNVERIFIABLE, reason=reason, notes=tuple(collected), **common)
    outcome = OK if not disagreeing else (MISMATCH if not agreeing else CONFLICT)
    if outcome == CONFLICT:
        collected.append(
            "sources disagree: "
            + ", ".join(e.label for e in agreeing)
            + " match the bytes, "
            + ", ".join(e.label for e in disagreeing)
            + " do not"
        )
    return Judgement(
        outcome,
        source=checked[0].source,
        agreeing=tuple(e.label for e in agreeing),
        disagreeing=tuple(e.label for e in disagreeing),
        notes=tuple(collected),
        **common,
    )
