"""The platform's JSON-lines log (``backup-monitor.log``), one line per job outcome.

Format, as in the platform's monitoring document: ``timestamp, level, tenant, site, action, durationMs,
status`` plus job fields. Secrets are removed by key and by shape, and personal data (e-mail addresses) is
masked, before anything reaches the file.
"""
from __future__ import annotations

import json
import logging
import logging.handlers
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|credential|webhook|dsn|cookie",
                         re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]+):(?P<pw>[^@\s]+)@", re.I)
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})\b")
_KEYVALUE_SECRET = re.compile(r"\b(password|api_key|token|secret)=([^\s&]+)", re.IGNORECASE)
_SLACK_WEBHOOK = re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9_/\-]+")
REDACTED = "[REDACTED]"
_handlers: dict[str, logging.Handler] = {}
_lock = threading.Lock()


def scrub_text(text: str) -> str:
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    text = _KEYVALUE_SECRET.sub(lambda m: f"{m[1]}={REDACTED}", text)
    text = _SLACK_WEBHOOK.sub(f"hooks.slack.com/services/{REDACTED}", text)
    return _EMAIL.sub(lambda m: f"{m[1]}***@{m[2]}", text)


def scrub(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with secrets removed and personal data masked, recursively."""
    if key and SECRET_KEYS.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


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


def log_event(path: str | Path, *, action: str, status: str, duration_ms: int | None = None,
              level: str = "info", tenant: str | None = None, site: str | None = None,
              timestamp: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """Append one JSON line to ``path``; return the (scrubbed) record written."""
    record = {
        "timestamp": (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "level": level, "tenant": tenant, "site": site, "action": action,
        "durationMs": duration_ms, "status": status,
    }
    for name, value in fields.items():
        record.setdefault(name, value)
    record = scrub(record)
    _logger(Path(path)).info(json.dumps(record, default=str, ensure_ascii=False))
    return record
