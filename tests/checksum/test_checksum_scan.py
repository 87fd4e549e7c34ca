"""The planning arithmetic: scrub share, budget selection and shards, on examples and properties."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reliability.checksum.inventory import Candidate
from reliability.checksum.scan import Selection, assign_shards, scrub_quota


def cands(*sizes: int, reason: str = "new") -> list[Candidate]:
    return [Candidate(f"k{i:04d}", size, reason) for i, size in enumerate(sizes)]


def test_scrub_share_is_the_total_over_the_cycle_or_what_is_overdue():
    assert scrub_quota(7000, 0, 7) == 1000
    assert scrub_quota(7001, 0, 7) == 1001
    assert scrub_quota(7000, 5000, 7) == 5000
    assert scrub_quota(0, 0, 7) == 0


def test_budget_is_filled_in_order_and_first_fit():
    selection = Selection(budget=1000)
    selection.take(cands(400, 700, 500, 100))
    assert [c.size for c in selection.chosen] == [400, 500, 100]
    assert selection.used == 1000 and selection.remaining == 0


def test_object_larger_than_the_budget_is_taken_only_when_nothing_else_is():
    first = Selection(budget=1000)
    first.take(cands(5000, 10))
    assert [c.size for c in first.chosen] == [5000]
    later = Selection(budget=1000)
    later.take(cands(10, 5000, 20))
    assert [c.size for c in later.chosen] == [10, 20]


def test_quota_stops_the_scrub_once_reached_even_with_budget_left():
    selection = Selection(budget=10_000)
    taken = selection.take(cands(300, 300, 300, 300, reason="scrub"), quota=500)
    assert taken == 600 and len(selection.chosen) == 2


def test_empty_objects_still_fit_a_full_budget():
    selection = Selection(budget=1000)
    selection.take(cands(1000, 0, 5, 0))
    assert [c.size for c in selection.chosen] == [1000, 0, 0]


def test_no_budget_takes_everything():
    selection = Selection(budget=None)
    selection.take(cands(10**12, 5, 7))
    assert len(selection.chosen) == 3 and selection.remaining is None


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=10_000), max_size=60),
    budget=st.integers(min_value=1, max_value=50_000),
)
def test_selection_never_exceeds_the_budget_unless_one_object_alone_does(sizes, budget):
    selection = Selection(budget=budget)
    selection.take(cands(*sizes))
    assert selection.used <= budget or len(selection.chosen) == 1
    assert len({c.key for c in selection.chosen}) == len(selection.chosen)
    # First-fit: nothing passed over would still have fitted.
    left = budget - selection.used
    chosen = {c.key for c in selection.chosen}
    assert all(c.size > left for c in cands(*sizes) if c.key not in chosen)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=10**9), max_size=80),
    shard_count=st.integers(min_value=1, max_value=8),
    min_shard=st.integers(min_value=1, max_value=10**9),
)
def test_shards_hold_every_object_once_and_are_balanced(sizes, shard_count, min_shard):
    items = cands(*sizes)
    shards = assign_shards(items, shard_count, min_shard)
    flat = [c.key for shard in shards for c in shard]
    assert sorted(flat) == sorted(c.key for c in items)
    if not items:
        assert shards == []
        return
    assert 1 <= len(shards) <= shard_count and all(shards)
    # Largest-first onto the lightest shard: no shard exceeds the mean by more than one object.
    loads = [sum(c.size for c in shard) for shard in shards]
    assert max(loads) <= sum(loads) / len(loads) + max(sizes)


def test_little_work_uses_few_shards():
    assert len(assign_shards(cands(100, 100, 100), 4, min_shard_bytes=1000)) == 1
    assert len(assign_shards(cands(600, 600, 600), 4, min_shard_bytes=1000)) == 2
    assert len(assign_shards(cands(5000, 5000), 4, min_shard_bytes=1)) == 2
