"""Starters for the stack's HTTP servers: moto (S3), the Pushgateway and the two SaaS fakes.

Each returns the URL it serves; each runs as its own process so that the stack survives the command
that started it (the test fixtures start the same programs the same way).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from stack.processes import start_process

PUSHGATEWAY_BINARIES = ("prometheus-pushgateway", "pushgateway")


def pushgateway_binary() -> str:
    for name in PUSHGATEWAY_BINARIES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        "Prometheus Pushgateway not found: install it with `apt-get install prometheus-pushgateway`"
    )


def start_moto(state_dir: Path, port: int) -> str:
    start_process(
        "s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], state_dir, port
    )
    return f"http://127.0.0.1:{port}"


def start_pushgateway(state_dir: Path, port: int) -> str:
    # No persistence: Debian's default file is shared by every gateway on the machine.
    start_process(
        "pushgateway",
        [pushgateway_binary(), f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="],
        state_dir,
        port,
    )
    return f"http://127.0.0.1:{port}"


def start_fake_slack(state_dir: Path, port: int, token_path: str) -> str:
    start_process(
        "slack",
        [
            sys.executable,
            "-m",
            "stack.fake_slack",
            "--port",
            str(port),
            "--token-path",
            token_path,
            "--record",
            str(state_dir / "slack-messages.jsonl"),
        ],
        state_dir,
        port,
    )
    return f"http://127.0.0.1:{port}"


def start_fake_uptimerobot(state_dir: Path, port: int, tenants_file: Path, api_key_file: Path) -> str:
    start_process(
        "uptimerobot",
        [
            sys.executable,
            "-m",
            "stack.fake_uptimerobot",
            "--port",
            str(port),
            "--tenants",
            str(tenants_file),
            "--api-key-file",
            str(api_key_file),
        ],
        state_dir,
        port,
    )
    return f"http://127.0.0.1:{port}"


def start_platform_redis(state_dir: Path, port: int, password: str | None = None, name: str = "redis") -> str:
    """Debian's redis-server as the platform's cache, in memory only; ``DEBUG`` allowed from localhost so
    tests can make it slow (``DEBUG SLEEP``). Returns ``redis://127.0.0.1:PORT/0``."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("redis-server not found: install it with `apt-get install redis-server`")
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--enable-debug-command", "local", "--daemonize", "no"]
    if password:
        argv += ["--requirepass", password]
    start_process(name, argv, state_dir, port)
    return f"redis://127.0.0.1:{port}/0"


def start_platform_metrics(
    state_dir: Path, port: int, cycle_seconds: float = 20, slow_seconds: float = 5
) -> str:
    """The platform-metrics stand-in (:mod:`stack.platform_metrics`); returns its ``host:port``."""
    argv = [sys.executable, "-m", "stack.platform_metrics", "--port", str(port)]
    argv += ["--cycle-seconds", str(cycle_seconds), "--slow-seconds", str(slow_seconds)]
    start_process("platform-metrics", argv, state_dir, port)
    return f"127.0.0.1:{port}"


def start_platform_prometheus(
    state_dir: Path, port: int, targets: list[str], interval: str = "1s", job: str = "api"
) -> str:
    """Debian's Prometheus scraping the platform's ``/metrics`` at ``targets`` (``host:port``) as ``job``,
    keeping its data under ``state_dir``; returns its base URL (for ``reliability_prometheus``)."""
    import yaml

    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(binary).exists():
        raise RuntimeError("Prometheus not found: install it with `apt-get install prometheus`")
    folder = state_dir / "platform-prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": targets}]}],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    argv = [
        binary,
        f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    start_process("platform-prometheus", argv, state_dir, port)
    return f"http://127.0.0.1:{port}"
