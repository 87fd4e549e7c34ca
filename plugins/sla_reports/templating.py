"""The plugin's Jinja2 environment: templates from ``templates/``, every value escaped unless marked safe.

Templates are ``.html`` (and the chart's ``.svg``) files, so autoescape is on for all of them; the
filters write the figures the way the page always has (ratios as percentages, ``–`` for no data).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reliability.core.formatting import format_duration

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"


def pct(ratio: float | None, decimals: int = 3) -> str:
    return "–" if ratio is None else f"{ratio * 100:.{decimals}f}%"


def seconds(value: float | None) -> str:
    """A latency: milliseconds below one second, else seconds."""
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def burn(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.2f}×"


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def path_segment(value: str) -> str:
    """``value`` as one URL path segment (a slash or ``?`` in a name must not change the route)."""
    return quote(value, safe="")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=pct,
        seconds=seconds,
        burn=burn,
        duration=format_duration,
        when=when,
        segment=path_segment,
        utc=utc,
    )
    return env


ENV = _environment()


def render(template: str, **context) -> str:
    return ENV.get_template(template).render(**context)
