"""SLA reports page in the Airflow UI: per-plan and per-tenant SLA tables, burn charts, CSV/JSON downloads.

The plugin itself is ``sla_reports_plugin.py``; the page is built by :func:`sla_reports.app.create_app`.
"""
