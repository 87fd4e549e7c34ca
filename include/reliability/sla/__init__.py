"""SLA uptime: per-monitor and per-tenant uptime, error budgets and burn rates from UptimeRobot.

The rules behind every figure are written down in ``RULES.md`` next to this file. The job's entry point
is :func:`reliability.sla.run.run`; the computation is :func:`reliability.sla.report.compute_sla_report`
over any :class:`reliability.sla.source.UptimeSource` (UptimeRobot's API v2, ``uptimerobot.py``, or v3,
``uptimerobot_v3.py``, as the connection says: ``uptimerobot_settings.py``),
and the results store side (writes and the SLA page's reads) is ``store.py``.
"""
