"""A local stand-in for Slack incoming webhooks, answering as Slack does.

Slack's documented webhook answers: ``200 ok``; ``400 invalid_payload`` (body is not JSON),
``400 no_text`` (no ``text``, ``blocks`` or ``attachments``), ``400 invalid_blocks``; ``404 no_service`` (unknown
webhook URL); ``429`` with ``Retry-After`` when rate limited (about one message per second per webhook).
Accepted messages are kept in memory, appended to an optional JSON-lines file and readable at
``GET /_messages`` (an endpoint of the fake only). ``POST /_control`` sets fault knobs for tests.

Run ``python -m stack.fake_slack --port N [--record FILE]``; it prints its webhook URL with the token
masked (the token is a secret like a real webhook's; the stack keeps it in ``.stack/stack.json``), and it
never logs request paths.
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WEBHOOK_PATH_PREFIX = "/services/"


class FakeSlack:
    def __init__(
        self,
        port: int = 0,
        record: Path | None = None,
        token_path: str | None = None,
        rate_limit_per_second: float | None = None,
    ):
        self.token_path = (
            token_path
            or f"T{secrets.token_hex(4).upper()}/B{secrets.token_hex(4).upper()}/{secrets.token_urlsafe(18)}"
        )
        self.record = record
        self.messages: list[dict] = []
        self.requests = 0
        self.rate_limit_next = 0  # answer the next N requests with 429
        self.retry_after = 1
        self.fail_next: list[int] = []  # answer the next requests with these statuses
        self.rate_limit_per_second = rate_limit_per_second
        self._last_accept = 0.0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH_PREFIX}{self.token_path}"

    @property
    def masked_url(self) -> str:
        """The webhook URL as it may be printed: the token part replaced."""
        return f"{self.base_url}{WEBHOOK_PATH_PREFIX}[REDACTED]"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeSlack:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.requests = 0
            self.rate_limit_next = 0
            self.fail_next = []

    def _answer(self, path: str, body: bytes) -> tuple[int, str, dict]:
        with self._lock:
            self.requests += 1
            if path != WEBHOOK_PATH_PREFIX + self.token_path:
                return 404, "no_service", {}
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                return 429, "rate_limited", {"Retry-After": str(self.retry_after)}
            if self.fail_next:
                status = self.fail_next.pop(0)
                return (
                    status,
                    {500: "rollup_error", 403: "action_prohibited", 410: "channel_is_archived"}.get(
                        status, "error"
                    ),
                    {},
                )
            now = time.monotonic()
            if self.rate_limit_per_second and now - self._last_accept < 1 / self.rate_limit_per_second:
                return 429, "rate_limited", {"Retry-After": "1"}
            try:
                payload = json.loads(body or b"")
            except ValueError:
                return 400, "invalid_payload", {}
            if not isinstance(payload, dict):
                return 400, "invalid_payload", {}
            # Slack accepts a message made only of attachments (Alertmanager sends those).
            if not payload.get("text") and not payload.get("blocks") and not payload.get("attachments"):
                return 400, "no_text", {}
            blocks = payload.get("blocks")
            if blocks is not None and (
                not isinstance(blocks, list)
                or not all(isinstance(b, dict) and "type" in b for b in blocks)
                or len(blocks) > 50
            ):
                return 400, "invalid_blocks", {}
            self._last_accept = now
            self.messages.append(payload)
            if self.record:
                with open(self.record, "a", encoding="utf-8") as f:
                    f.write(json.dumps(payload) + "\n")
            return 200, "ok", {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the webhook token out of stderr
                pass

            def _send(self, status: int, text: str, headers: dict, content_type="text/html") -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/_messages":
                    with fake._lock:
                        self._send(200, json.dumps(fake.messages), {}, "application/json")
                else:
                    self._send(404, "no_service", {})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/_control":
                    knobs = json.loads(body or b"{}")
                    with fake._lock:
                        if knobs.get("clear"):
                            fake.messages.clear()
                        fake.rate_limit_next = int(knobs.get("rate_limit_next", fake.rate_limit_next))
                        fake.fail_next = list(knobs.get("fail_next", fake.fail_next))
                    self._send(200, "ok", {})
                    return
                status, text, headers = fake._answer(self.path, body)
                self._send(status, text, headers)

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path)
    parser.add_argument("--token-path", help="the T.../B.../secret part of the webhook URL")
    args = parser.parse_args()
    fake = FakeSlack(args.port, args.record, args.token_path)
    print(f"fake Slack webhook at {fake.masked_url}", flush=True)
    fake._server.serve_forever()


if __name__ == "__main__":
    main()
