"""SLA uptime: per-monitor and per-tenant uptime, error budgets and burn rates from UptimeRobot.

The rules behind every figure are written down in ``RULES.md`` next to this file. The entry point is
:func:`reliability.sla.report.compute_sla_report`; the source of monitors and logs is any
:class:`reliability.sla.source.UptimeSource` (UptimeRobot's API v2 today).
"""
