"""The SLA reports FastAPI app, mounted by the api-server under ``/sla``.

Routes (all for authenticated Airflow users only: the UI's ``_token`` cookie or a Bearer token):
``GET /`` the page (``?period=YYYY-MM``, the newest period by default), ``GET /periods/{period}.csv``
and ``GET /periods/{period}.json`` the downloads; ``GET /{period}/tenants/{slug}`` a tenant's page,
with ``/statement``, ``/statement.pdf`` and ``/incidents.csv`` under it; ``GET /static/sla.css``. Plugin apps are not authenticated by Airflow, so the
app depends on Airflow's own ``get_user`` for every route, and has no unauthenticated docs or schema.
"""

from __future__ import annotations

from collections.abc import Callable

# the routes' parameter annotations are resolved from this module's globals (this module is imported on the
# first request only, by the api-server)
from fastapi import Request

from sla_reports.reports import (
    PERIOD_PATTERN,
    PeriodNotFound,
    PeriodView,
    ResultsStoreUnavailable,
    load_period,
    load_tenant,
    results_dsn,
)

# framed by the Airflow UI (same origin) and nowhere else; no script; styles only from the plugin's stylesheet
_PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
_DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'self'"
_COMMON_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}


def create_app(dsn_source: Callable[[], str] = results_dsn):
    """Build the app; ``dsn_source`` gives the results store's DSN on each request (default: from the
    ``reliability_results_db`` connection)."""
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends, FastAPI, Path, Query
    from fastapi.responses import HTMLResponse, Response

    from sla_reports import render, tenant
    from sla_reports.templating import STATIC_DIR

    app = FastAPI(
        title="SLA reports", dependencies=[Depends(get_user)], docs_url=None, redoc_url=None, openapi_url=None
    )

    def load(period: str | None) -> PeriodView:
        return load_period(dsn_source(), period)

    def html_page(request: Request, build: Callable[[str, str], str]) -> HTMLResponse:
        """``build(static, base)`` as the page, or the error page (404 for an unknown period or tenant,
        503 for no store); ``base`` is where the app is mounted (``/sla``)."""
        base = request.scope.get("root_path", "")
        static = f"{base}/static"
        headers = {**_COMMON_HEADERS, "Content-Security-Policy": _PAGE_CSP}
        try:
            html, status = build(static, base), 200
        except PeriodNotFound as exc:
            html, status = render.error_page(str(exc), static), 404
        except ResultsStoreUnavailable as exc:
            html, status = render.error_page(str(exc), static), 503
        return HTMLResponse(html, status_code=status, headers=headers)

    @app.get("/", response_class=HTMLResponse)
    def sla_page(request: Request, period: str | None = Query(None, pattern=PERIOD_PATTERN)) -> HTMLResponse:
        return html_page(request, lambda static, base: render.page(load(period), static))

    # a tenant's slug may hold any character (even "/"): the ``path`` routes take it whole, the
    # statement and download routes come first so that their suffix is not read as part of a slug
    @app.get("/{period}/tenants/{slug:path}/statement.pdf")
    def tenant_statement_pdf(slug: str, period: str = Path(pattern=PERIOD_PATTERN)) -> Response:
        return tenant_download(period, slug, tenant.statement_pdf, "application/pdf", "statement", "pdf")

    @app.get("/{period}/tenants/{slug:path}/incidents.csv")
    def tenant_incidents_csv(slug: str, period: str = Path(pattern=PERIOD_PATTERN)) -> Response:
        return tenant_download(
            period, slug, tenant.incidents_csv, "text/csv; charset=utf-8", "incidents", "csv"
        )

    def tenant_download(period: str, slug: str, build, media_type: str, what: str, suffix: str) -> Response:
        return _download(
            lambda: build(load_statement(period, slug)),
            media_type,
            f"sla-{what}-{period}-{tenant.file_safe(slug)}.{suffix}",
        )

    @app.get("/{period}/tenants/{slug:path}/statement", response_class=HTMLResponse)
    def tenant_statement(
        request: Request, slug: str, period: str = Path(pattern=PERIOD_PATTERN)
    ) -> HTMLResponse:
        return html_page(
            request, lambda static, base: tenant.statement_page(load_statement(period, slug), static, base)
        )

    @app.get("/{period}/tenants/{slug:path}", response_class=HTMLResponse)
    def tenant_page(request: Request, slug: str, period: str = Path(pattern=PERIOD_PATTERN)) -> HTMLResponse:
        return html_page(
            request, lambda static, base: tenant.tenant_page(load_statement(period, slug), static, base)
        )

    def load_statement(period: str, slug: str):
        return load_tenant(dsn_source(), period, slug)

    stylesheet = (STATIC_DIR / "sla.css").read_text()

    @app.get("/static/sla.css")
    def sla_css() -> Response:
        # a route rather than a StaticFiles mount, so that the app's get_user dependency guards it too
        return Response(
            stylesheet,
            media_type="text/css; charset=utf-8",
            headers={
                **_COMMON_HEADERS,
                "Content-Security-Policy": _DOWNLOAD_CSP,
                "Cache-Control": "private, max-age=300",
            },
        )

    @app.get("/periods/{period}.csv")
    def sla_csv(period: str = Path(pattern=PERIOD_PATTERN)) -> Response:
        return _download(
            lambda: render.report_csv(load(period)), "text/csv; charset=utf-8", f"sla-{period}.csv"
        )

    @app.get("/periods/{period}.json")
    def sla_json(period: str = Path(pattern=PERIOD_PATTERN)) -> Response:
        return _download(lambda: render.report_json(load(period)), "application/json", f"sla-{period}.json")

    def _download(build: Callable[[], str | bytes], media_type: str, filename: str) -> Response:
        headers = {**_COMMON_HEADERS, "Content-Security-Policy": _DOWNLOAD_CSP}
        try:
            content = build()
        except PeriodNotFound as exc:
            return Response(f"{exc}\n", status_code=404, media_type="text/plain", headers=headers)
        except ResultsStoreUnavailable as exc:
            return Response(f"{exc}\n", status_code=503, media_type="text/plain", headers=headers)
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Response(content, media_type=media_type, headers=headers)

    return app
