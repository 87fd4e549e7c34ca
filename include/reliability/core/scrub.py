"""One scrubber for everything that leaves a job: log lines, Slack text, stored summaries, exceptions.

Secrets are removed by key (``password``, ``token``, ``webhook``...), by shape (credentials in URLs,
``key=value`` secrets, Slack webhook paths) and by value (a known secret such as a database password),
and personal data (e-mail addresses) is masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
SECRET_KEYS = re.compile(
    r"pass(word)?|secret|token|api[_-]?key|authorization|credential|webhook|dsn|cookie", re.IGNORECASE
)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]+):(?P<pw>[^@\s]+)@", re.I)
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})\b")
_KEYVALUE_SECRET = re.compile(r"\b(password|api_key|token|secret)=([^\s&]+)", re.IGNORECASE)
# Slack's hooks.slack.com/services/T.../B.../token, and the same path on any host (a proxy, the local receiver).
_WEBHOOK_PATH = re.compile(r"(/services/)[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*")
_BEARER = re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/\-]+=*", re.IGNORECASE)


def scrub_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    text = _KEYVALUE_SECRET.sub(lambda m: f"{m[1]}={REDACTED}", text)
    text = _WEBHOOK_PATH.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _EMAIL.sub(lambda m: f"{m[1]}***@{m[2]}", text)


def scrub(value: Any, key: str = "", secrets: Iterable[str | None] = ()) -> Any:
    """A copy of ``value`` with secrets removed and personal data masked, recursively."""
    secrets = tuple(s for s in secrets if s)
    if key and SECRET_KEYS.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: scrub(v, str(k), secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, "", secrets) for v in value]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value
