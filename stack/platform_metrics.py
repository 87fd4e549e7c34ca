"""A stand-in for the platform's ``/metrics``: histograms with a known distribution, for Prometheus to scrape.

What it serves is a pure function of the time since it started, so a test can work out every figure by
hand:

- ``http_request_duration_seconds{route}``: ``/`` gets 9 requests a second, all within the first bucket
  (0.1 s) except during the *slow phase*, when they take 3 s; ``/api/report`` gets 1 request a second,
  always 3 s. The slow phase is the first ``slow_seconds`` of every ``cycle_seconds``, counted from the
  start. So the median of all requests is about 3.75 s (bucket 2.5-5 s, interpolated) during the slow
  phase and under 0.1 s outside it, and the share of time the median is above 2 s is about
  ``slow_seconds / cycle_seconds``; ``/api/report``'s median is 3.75 s.
- ``assistant_call_duration_seconds{provider}``: openai 2 calls a second at 1.5 s (median 1.5 s,
  interpolated in the 1-2 s bucket), anthropic 1 a second at 0.8 s (0.75 s), mistral 1 a second at 3 s (3 s).

Run: ``python -m stack.platform_metrics --port 9464 [--cycle-seconds 20 --slow-seconds 5]``.
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTTP_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10)
AI_BUCKETS = (0.25, 0.5, 1, 2, 4, 8, 16)
# route -> (requests a second, latency outside the slow phase, latency in the slow phase)
ROUTES = {"/": (9.0, 0.05, 3.0), "/api/report": (1.0, 3.0, 3.0)}
# provider -> (calls a second, latency)
PROVIDERS = {"openai": (2.0, 1.5), "anthropic": (1.0, 0.8), "mistral": (1.0, 3.0)}


def slow_time(elapsed: float, cycle: float, slow: float) -> float:
    """Seconds of the first ``elapsed`` seconds that fell in a slow phase."""
    if slow <= 0:
        return 0.0
    whole, rest = divmod(elapsed, cycle)
    return whole * slow + min(rest, slow)


def _histogram(name: str, labels: str, buckets, observations: dict[float, float]) -> list[str]:
    """Exposition lines of one histogram series from ``{latency: count}``."""
    lines = []
    for bound in (*buckets, float("inf")):
        count = sum(n for latency, n in observations.items() if latency <= bound)
        le = "+Inf" if bound == float("inf") else repr(float(bound))
        lines.append(f'{name}_bucket{{{labels},le="{le}"}} {count}')
    total = sum(observations.values())
    lines.append(f"{name}_sum{{{labels}}} {sum(lat * n for lat, n in observations.items())}")
    lines.append(f"{name}_count{{{labels}}} {total}")
    return lines


def exposition(elapsed: float, cycle: float, slow: float) -> str:
    slow_s = slow_time(elapsed, cycle, slow)
    lines = [
        "# HELP http_request_duration_seconds HTTP request latency",
        "# TYPE http_request_duration_seconds histogram",
    ]
    for route, (rate, fast_latency, slow_latency) in ROUTES.items():
        observations: dict[float, float] = {}
        observations[fast_latency] = observations.get(fast_latency, 0) + rate * (elapsed - slow_s)
        observations[slow_latency] = observations.get(slow_latency, 0) + rate * slow_s
        lines += _histogram("http_request_duration_seconds", f'route="{route}"', HTTP_BUCKETS, observations)
    lines += [
        "# HELP assistant_call_duration_seconds AI assistant call latency per provider",
        "# TYPE assistant_call_duration_seconds histogram",
    ]
    for provider, (rate, latency) in PROVIDERS.items():
        lines += _histogram(
            "assistant_call_duration_seconds", f'provider="{provider}"', AI_BUCKETS, {latency: rate * elapsed}
        )
    return "\n".join(lines) + "\n"


class PlatformMetrics:
    """The exporter in a thread (tests), or as a process through :func:`main`."""

    def __init__(self, port: int = 0, cycle_seconds: float = 20.0, slow_seconds: float = 5.0):
        self.started = time.time()
        self.cycle, self.slow = cycle_seconds, slow_seconds
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = exposition(time.time() - exporter.started, exporter.cycle, exporter.slow).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> PlatformMetrics:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        self._server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--port", type=int, default=9464)
    parser.add_argument("--cycle-seconds", type=float, default=20.0)
    parser.add_argument("--slow-seconds", type=float, default=5.0)
    args = parser.parse_args()
    PlatformMetrics(args.port, args.cycle_seconds, args.slow_seconds).serve_forever()


if __name__ == "__main__":
    main()
