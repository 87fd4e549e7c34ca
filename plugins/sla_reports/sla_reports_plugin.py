"""Airflow plugin: the SLA reports page, served by the api-server under ``/sla/`` and linked from the nav.

Every Airflow process scans the plugins folder (the scheduler, the dag-processor and each task runner
too), so this module imports nothing beyond Airflow's plugin base: the FastAPI app, Airflow's API
security and the database driver are imported on the first request to the page, in the api-server only.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/sla"


class LazyApp:
    """An ASGI app that builds the real one (:func:`sla_reports.app.create_app`) on its first request."""

    def __init__(self) -> None:
        self._app = None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            # no await between the check and the assignment: one event loop cannot build it twice
            from sla_reports.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class SlaReportsPlugin(AirflowPlugin):
    name = "sla_reports"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "SLA reports"}]
    # url_route: the UI frames href at /plugin/sla-reports in its own layout (hence frame-ancestors 'self')
    external_views = [
        {
            "name": "SLA reports",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "sla-reports",
            "category": "browse",
        }
    ]
