"""The platform's JSON-lines log (``backup-monitor.log``), one line per job outcome.

Format, as in the platform's monitoring document: ``timestamp, level, tenant, site, action, durationMs,
status`` plus job fields. Secrets are removed by key and by shape, and personal data (e-mail addresses) is
masked (:mod:`reliability.core.scrub`), before anything reaches the file.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reliability.core.scrub import scrub

_handlers: dict[str, logging.Handler] = {}
_lock = threading.Lock()


def _logger(path: Path) -> logging.Logger:
    key = str(path.resolve())
    with _lock:
        logger = logging.getLogger(f"reliability.monitorlog.{key}")
        if key not in _handlers:
            path.parent.mkdir(parents=True, exist_ok=True)
            # WatchedFileHandler reopens the file after logrotate moves it.
            handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False
            _handlers[key] = handler
        return logger


def log_event(
    path: str | Path,
    *,
    action: str,
    status: str,
    duration_ms: int | None = None,
    level: str = "info",
    tenant: str | None = None,
    site: str | None = None,
    timestamp: datetime | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Append one JSON line to ``path``; return the (scrubbed) record written."""
    record = {
        "timestamp": (timestamp or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "level": level,
        "tenant": tenant,
        "site": site,
        "action": action,
        "durationMs": duration_ms,
        "status": status,
    }
    for name, value in fields.items():
        record.setdefault(name, value)
    record = scrub(record)
    _logger(Path(path)).info(json.dumps(record, default=str, ensure_ascii=False))
    return record
