"""The table digest's definition, pinned: manifests written by earlier versions must still compare equal."""

from __future__ import annotations

from hashlib import blake2b

from hypothesis import given
from hypothesis import strategies as st

from reliability.backups.tabledigest import TableDigest, digest_copy_stream


def reference(lines: list[bytes]) -> str:
    """The documented definition: BLAKE2b-64 of each line, read little-endian, summed modulo 2**128."""
    total = sum(int.from_bytes(blake2b(line, digest_size=8).digest(), "little") for line in lines)
    return f"{total % (1 << 128):032x}"


def test_known_value_never_changes():
    digest = TableDigest()
    digest.add_lines([b"1\tacme\tpro", b"2\tglobex\t\\N"])
    assert digest.rows == 2
    assert digest.hexdigest == reference([b"1\tacme\tpro", b"2\tglobex\t\\N"])
    assert digest.hexdigest == "0000000000000001be0140a07fd60c8d"


@given(st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=60), st.randoms())
def test_equals_the_definition_in_any_order_and_any_chunking(lines, random):
    shuffled = list(lines)
    random.shuffle(shuffled)
    stream = b"".join(line + b"\n" for line in shuffled)
    cuts = sorted(random.sample(range(len(stream) + 1), min(5, len(stream) + 1)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]

    digest = digest_copy_stream(chunks)

    assert digest.rows == len(lines)
    assert digest.hexdigest == reference(lines)


def test_a_duplicated_row_does_not_cancel_out():
    once, twice = TableDigest(), TableDigest()
    once.add_lines([b"a", b"b"])
    twice.add_lines([b"a", b"b", b"b"])
    assert once.hexdigest != twice.hexdigest
