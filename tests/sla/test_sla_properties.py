"""Properties of the uptime arithmetic (hypothesis), and the numpy path held to the plain reference."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reliability.sla import vectorised
from reliability.sla.timeline import LogEntry, State, segments
from reliability.sla.uptime import MaintenancePolicy, MonitorInput, counted_intervals, figures

SPAN = 10_000
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

entries = st.lists(
    st.builds(
        LogEntry,
        st.integers(-500, SPAN + 500),
        st.sampled_from([1, 2, 98, 99]),
        st.integers(0, 20),
        st.integers(0, 10**6),
    ),
    max_size=25,
)
intervals = st.lists(
    st.tuples(st.integers(-500, SPAN), st.integers(0, 3000)).map(lambda p: (p[0], p[0] + p[1])), max_size=4
)
monitors = st.builds(
    MonitorInput,
    created_at=st.integers(-1000, SPAN),
    status=st.sampled_from([0, 1, 2, 8, 9, 5]),
    entries=entries,
    maintenance=intervals,
)
policies = st.sampled_from(list(MaintenancePolicy))


@SETTINGS
@given(monitors, policies, st.integers(0, SPAN // 2), st.integers(SPAN // 2 + 1, SPAN))
def test_uptime_is_always_between_zero_and_one_or_no_data(monitor, policy, start, end):
    result = figures(counted_intervals(monitor, start, end, policy), start, end)
    assert 0 <= result.downtime_seconds <= result.monitored_seconds <= end - start
    assert result.uptime_ratio is None if result.monitored_seconds == 0 else 0.0 <= result.uptime_ratio <= 1.0


@SETTINGS
@given(monitors, policies, st.data())
def test_more_downtime_never_raises_uptime(monitor, policy, data):
    start, end = 0, SPAN
    before = figures(counted_intervals(monitor, start, end, policy), start, end)
    up = [
        s
        for s in segments(monitor.entries, monitor.status, max(start, monitor.created_at), end)
        if s.state == State.UP and s.end - s.start >= 3
    ]
    assume(up)
    segment = data.draw(st.sampled_from(up))
    a = data.draw(st.integers(segment.start + 1, segment.end - 2))
    b = data.draw(st.integers(a + 1, segment.end - 1))
    worse = MonitorInput(
        monitor.created_at,
        monitor.status,
        list(monitor.entries) + [LogEntry(a, 1, 10**6), LogEntry(b, 2, 10**6 + 1)],
        monitor.maintenance,
    )
    after = figures(counted_intervals(worse, start, end, policy), start, end)
    assert after.downtime_seconds >= before.downtime_seconds
    if before.uptime_ratio is not None:
        assert after.uptime_ratio <= before.uptime_ratio


@SETTINGS
@given(monitors, policies, st.integers(1, SPAN - 1))
def test_splitting_a_period_keeps_the_total_downtime(monitor, policy, middle):
    start, end = 0, SPAN
    whole = figures(counted_intervals(monitor, start, end, policy), start, end)
    first = figures(counted_intervals(monitor, start, middle, policy), start, middle)
    second = figures(counted_intervals(monitor, middle, end, policy), middle, end)
    assert first.downtime_seconds + second.downtime_seconds == whole.downtime_seconds
    assert first.monitored_seconds + second.monitored_seconds == whole.monitored_seconds
    assert whole.incidents <= first.incidents + second.incidents <= whole.incidents + 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(monitors, min_size=1, max_size=8),
    policies,
    st.integers(-200, SPAN // 2),
    st.integers(SPAN // 2, SPAN + 200),
    st.lists(st.integers(-1, 2), min_size=8, max_size=8),
)
def test_vectorised_path_agrees_with_the_reference(batch, policy, start, end, groups):
    import numpy as np

    monitored, down = vectorised.counted_intervals(batch, start, end, policy)
    references = [counted_intervals(m, start, end, policy) for m in batch]
    for i, reference in enumerate(references):
        assert monitored.of(i) == list(reference.monitored)
        assert down.of(i) == list(reference.down)
    assert vectorised.figures(monitored, down, start, end) == [figures(r, start, end) for r in references]

    from reliability.sla.uptime import combine

    group_of = np.array(groups[: len(batch)], dtype=np.int64)
    tenant_monitored = vectorised.regroup(monitored, group_of, 3)
    tenant_down = vectorised.regroup(down, group_of, 3)
    for g in range(3):
        expected = combine(r for r, owner in zip(references, group_of) if owner == g)
        assert tenant_monitored.of(g) == list(expected.monitored)
        assert tenant_down.of(g) == list(expected.down)
