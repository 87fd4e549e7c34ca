"""Slack notifications through the Slack provider's incoming-webhook hook (messages: :mod:`reliability.core.slack`).

Slack answers 429 with ``Retry-After`` when a webhook is rate limited; the hook's slack_sdk client retries
those (and connection errors) itself, honouring the header. Anything else that is not ``200 ok`` is an
error. The webhook URL is a secret: it never appears in a message we raise or log. slack_sdk logs the
request URL when it retries (``Going to retry the same request: POST <url>``) on the logger it is given,
so the hook gets :data:`WEBHOOK_LOG`, whose filter masks the URL in every record before any handler
(console, task log, ``airflow dags test`` output) sees it; the URL is also registered with Airflow's
secrets masker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from reliability.core.scrub import scrub_text as scrub

log = logging.getLogger(__name__)


class _MaskWebhook(logging.Filter):
    """Rewrites each record with every known webhook URL (and any ``/services/...`` path) masked."""

    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = scrub(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True


_MASK = _MaskWebhook()
WEBHOOK_LOG = logging.getLogger(f"{__name__}.webhook")
WEBHOOK_LOG.addFilter(_MASK)


def mask_webhook(url: str | None) -> None:
    """Keep ``url`` out of :data:`WEBHOOK_LOG` and, in a task, out of everything Airflow masks."""
    if not url:
        return
    from airflow.sdk.log import mask_secret

    _MASK.secrets.add(url)
    mask_secret(url)


class SlackFailed(RuntimeError):
    """Slack did not accept the message."""


@dataclass(frozen=True)
class SlackNotifier:
    conn_id: str = "reliability_slack"
    rate_limit_retries: int = 3

    def send(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
        from slack_sdk.http_retry.builtin_handlers import (
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
        )

        # slack_sdk logs request URLs at DEBUG; the URL holds the webhook token.
        logging.getLogger("slack_sdk").setLevel(max(logging.INFO, logging.getLogger("slack_sdk").level))
        try:
            hook = SlackWebhookHook(
                slack_webhook_conn_id=self.conn_id,
                retry_handlers=[
                    RateLimitErrorRetryHandler(max_retry_count=self.rate_limit_retries),
                    ConnectionErrorRetryHandler(max_retry_count=2),
                ],
                logger=WEBHOOK_LOG,
            )
            mask_webhook(hook.client.url)
            hook.send(text=text, blocks=blocks)
        except Exception as exc:
            raise SlackFailed(
                f"Slack webhook ({self.conn_id}) refused the message: {scrub(str(exc)) or type(exc).__name__}"
            ) from None
