"""Slack notifications through the Slack provider's incoming-webhook hook, as Block Kit messages.

Slack answers 429 with ``Retry-After`` when a webhook is rate limited; the hook's slack_sdk client retries
those (and connection errors) itself, honouring the header. Anything else that is not ``200 ok`` is an
error. The webhook URL is a secret: it never appears in a message we raise or log.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from reliability.outcome import Outcome

log = logging.getLogger(__name__)

STATUS_EMOJI = {"success": ":white_check_mark:", "warning": ":warning:", "failed": ":rotating_light:"}
_WEBHOOK_TOKEN = re.compile(r"(hooks\.slack\.com/services/|/services/)[A-Za-z0-9_\-/]+")


class SlackFailed(RuntimeError):
    """Slack did not accept the message."""


def scrub(text: str) -> str:
    return _WEBHOOK_TOKEN.sub(r"\1[REDACTED]", text)


@dataclass(frozen=True)
class SlackNotifier:
    conn_id: str = "reliability_slack"
    rate_limit_retries: int = 3

    def send(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        # slack_sdk logs request URLs at DEBUG; the URL holds the webhook token.
        logging.getLogger("slack_sdk").setLevel(max(logging.INFO, logging.getLogger("slack_sdk").level))
        try:
            hook = SlackWebhookHook(slack_webhook_conn_id=self.conn_id, retry_handlers=[
                RateLimitErrorRetryHandler(max_retry_count=self.rate_limit_retries),
                ConnectionErrorRetryHandler(max_retry_count=2)])
            hook.send(text=text, blocks=blocks)
        except Exception as exc:
            raise SlackFailed(f"Slack webhook ({self.conn_id}) refused the message: "
                              f"{scrub(str(exc)) or type(exc).__name__}") from None


def outcome_blocks(outcomes: list[Outcome], run_url: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Block Kit for one run: a headline per outcome with its status, its facts, and the run link."""
    worst = "failed" if any(o.status == "failed" for o in outcomes) else (
        "warning" if any(o.status == "warning" or o.alert for o in outcomes) else "success")
    job = outcomes[0].job if outcomes else "reliability"
    text = f"{STATUS_EMOJI[worst]} {job}: " + "; ".join(o.headline for o in outcomes)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "emoji": True,
                                                                  "text": f"{job} — {worst}"[:150]}}]
    for outcome in outcomes[:20]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": f"{STATUS_EMOJI[outcome.status]} *{outcome.headline}*"[:3000]}})
        if outcome.facts:
            blocks.append({"type": "section", "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{value}"[:2000]} for name, value in outcome.facts[:10]]})
        if outcome.detail:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": outcome.detail[:3000]}})
    if len(outcomes) > 20:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                        "text": f"… and {len(outcomes) - 20} more"}]})
    if run_url:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{run_url}|Open the Airflow run>"}]})
    return text[:3000], blocks
