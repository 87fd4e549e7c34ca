"""Slack notifications through the Slack provider's incoming-webhook hook (messages: :mod:`reliability.core.slack`).

Slack answers 429 with ``Retry-After`` when a webhook is rate limited; the hook's slack_sdk client retries
those (and connection errors) itself, honouring the header. Anything else that is not ``200 ok`` is an
error. The webhook URL is a secret: it never appears in a message we raise or log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from reliability.core.scrub import scrub_text as scrub

log = logging.getLogger(__name__)


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
            )
            hook.send(text=text, blocks=blocks)
        except Exception as exc:
            raise SlackFailed(
                f"Slack webhook ({self.conn_id}) refused the message: {scrub(str(exc)) or type(exc).__name__}"
            ) from None
