"""Run the shipped monitoring configuration on real Prometheus and Alertmanager, and follow an alert.

The local configurations are derived from the files under ``monitoring/`` that docker-compose.yaml
mounts: only addresses, file paths (container paths -> repository or temporary paths) and timings
change, so a test that passes here exercises the rules, routes, inhibitions and templates that ship.

Reusable by any end-to-end test: start the servers with :func:`running_alertmanager` and
:func:`running_prometheus` (or the fixtures in this folder's conftest.py), make something push
metrics to the Pushgateway - a real job run, or :func:`push_corrupt_backup_run` - then call
:func:`assert_alert_delivered`.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import requests
import yaml
from prometheus_client import CollectorRegistry, Gauge, delete_from_gateway, pushadd_to_gateway

from stack.processes import free_port, start_process, stop_pid

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"
PROMETHEUS_DIR = MONITORING / "prometheus"
ALERTMANAGER_DIR = MONITORING / "alertmanager"

# Where docker-compose.yaml mounts these folders and secrets inside the containers.
CONTAINER_PROMETHEUS_DIR = "/etc/prometheus"
CONTAINER_ALERTMANAGER_DIR = "/etc/alertmanager"
CONTAINER_SECRETS_DIR = "/run/secrets"

PROMETHEUS_BIN = "/usr/bin/prometheus"
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"

T = TypeVar("T")


@dataclass(frozen=True)
class Server:
    """A monitoring server started for a test: its base URL, process id and log file."""

    url: str
    pid: int
    log: Path


def _url_parts(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def _container_to_local(path: str, container_dir: str, local_dir: Path) -> str:
    if not path.startswith(container_dir + "/"):
        raise ValueError(
            f"{path} is not under {container_dir}: the shipped config and this helper disagree "
            f"about where docker-compose.yaml mounts the monitoring folder"
        )
    return str(local_dir / path[len(container_dir) + 1 :])


def local_prometheus_config(
    pushgateway_url: str, alertmanager_url: str, self_address: str, interval: str = "1s"
) -> dict[str, Any]:
    """monitoring/prometheus/prometheus.yml with local addresses, repository paths and ``interval``."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = interval
    config["global"]["evaluation_interval"] = interval
    config["rule_files"] = [
        _container_to_local(p, CONTAINER_PROMETHEUS_DIR, PROMETHEUS_DIR) for p in config["rule_files"]
    ]
    am_scheme, am_netloc, am_path = _url_parts(alertmanager_url)
    (alertmanagers,) = config["alerting"]["alertmanagers"]
    alertmanagers.update(
        scheme=am_scheme, path_prefix=am_path or "/", static_configs=[{"targets": [am_netloc]}]
    )
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    pg_scheme, pg_netloc, pg_path = _url_parts(pushgateway_url)
    jobs["pushgateway"].update(
        scheme=pg_scheme, metrics_path=f"{pg_path}/metrics", static_configs=[{"targets": [pg_netloc]}]
    )
    jobs["prometheus"]["static_configs"] = [{"targets": [self_address]}]
    for job in jobs.values():
        for sd in job.get("file_sd_configs", []):
            sd["files"] = [
                _container_to_local(f, CONTAINER_PROMETHEUS_DIR, PROMETHEUS_DIR) for f in sd["files"]
            ]
    return config


def _replace_secret_files(node: Any, secret_files: Mapping[str, Path]) -> None:
    if isinstance(node, list):
        for item in node:
            _replace_secret_files(item, secret_files)
    elif isinstance(node, dict):
        for key, value in node.items():
            if (
                key.endswith("_file")
                and isinstance(value, str)
                and value.startswith(CONTAINER_SECRETS_DIR + "/")
            ):
                name = value[len(CONTAINER_SECRETS_DIR) + 1 :]
                if name not in secret_files:
                    raise KeyError(f"alertmanager.yml reads the secret {name!r}; pass a file for it")
                node[key] = str(secret_files[name])
            else:
                _replace_secret_files(value, secret_files)


def local_alertmanager_config(
    secret_files: Mapping[str, Path], smtp_smarthost: str, group_wait: str = "1s", group_interval: str = "1s"
) -> dict[str, Any]:
    """monitoring/alertmanager/alertmanager.yml with local secret files, templates and SMTP server.

    The local SMTP server speaks plain SMTP, so STARTTLS is not required of it. The short group
    interval lets an alert that resolved and fired again within one test session be notified again
    at once, as it would be minutes later in production.
    """
    config = yaml.safe_load((ALERTMANAGER_DIR / "alertmanager.yml").read_text())
    _replace_secret_files(config, secret_files)
    config["templates"] = [
        _container_to_local(t, CONTAINER_ALERTMANAGER_DIR, ALERTMANAGER_DIR) for t in config["templates"]
    ]
    config["global"].update(smtp_smarthost=smtp_smarthost, smtp_require_tls=False)
    config["route"].update(group_wait=group_wait, group_interval=group_interval)
    return config


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


class _NoAliasDumper(yaml.SafeDumper):
    # Anchors in the shipped files load as shared objects; write each occurrence out in full.
    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_yaml(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.dump(config, Dumper=_NoAliasDumper, sort_keys=False))
    return path


class SmtpSink:
    """A plain SMTP server on 127.0.0.1 that accepts every message and keeps its raw text."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        sink = self

        class Session(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            def handle(self) -> None:
                self.reply("220 localhost test sink")
                for raw in self.rfile:
                    verb = raw.decode(errors="replace").strip().split(" ", 1)[0].upper()
                    if verb in {"EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP"}:
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        for data in self.rfile:
                            if data in {b".\r\n", b".\n"}:
                                break
                            lines.append(data.decode(errors="replace"))
                        sink.messages.append("".join(lines))
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self._server.daemon_threads = True

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running_alertmanager(
    workdir: Path, slack_webhook_url: str, smtp_smarthost: str, timeout: float = 30.0
) -> Iterator[Server]:
    """Alertmanager on 127.0.0.1 with the shipped routes, posting to ``slack_webhook_url`` and mailing
    through ``smtp_smarthost`` (``host:port``, e.g. an :class:`SmtpSink`)."""
    secrets = workdir / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    secret_files = {
        "slack_webhook_url": secrets / "slack_webhook_url",
        "smtp_password": secrets / "smtp_password",
    }
    secret_files["slack_webhook_url"].write_text(slack_webhook_url)
    secret_files["smtp_password"].write_text("test-only-password")
    config = local_alertmanager_config(secret_files, smtp_smarthost=smtp_smarthost)
    config_file = write_yaml(workdir / "alertmanager.yml", config)
    port = free_port()
    proc = start_process(
        "alertmanager",
        [
            ALERTMANAGER_BIN,
            f"--config.file={config_file}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        workdir,
        port,
        timeout=timeout,
    )
    server = Server(url=f"http://127.0.0.1:{port}", pid=proc.pid, log=workdir / "alertmanager.log")
    try:
        wait_until(lambda: _ready(server.url), timeout, "Alertmanager to become ready")
        yield server
    finally:
        stop_pid(proc.pid)


@contextmanager
def running_prometheus(
    workdir: Path, pushgateway_url: str, alertmanager_url: str, timeout: float = 30.0
) -> Iterator[Server]:
    """Prometheus on 127.0.0.1 with the shipped rules, scraping and evaluating every second."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = local_prometheus_config(pushgateway_url, alertmanager_url, self_address=f"127.0.0.1:{port}")
    config_file = write_yaml(workdir / "prometheus.yml", config)
    proc = start_process(
        "prometheus",
        [
            PROMETHEUS_BIN,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        workdir,
        port,
        timeout=timeout,
    )
    server = Server(url=f"http://127.0.0.1:{port}", pid=proc.pid, log=workdir / "prometheus.log")
    try:
        wait_until(lambda: _ready(server.url), timeout, "Prometheus to become ready")
        yield server
    finally:
        stop_pid(proc.pid)


def push_corrupt_backup_run(pushgateway_url: str, database: str = "platform") -> dict[str, str]:
    """Push what backup_verify pushes after a run whose dump failed verification; returns the group key."""
    registry = CollectorRegistry()
    now = time.time()
    for name, value in [
        ("reliability_job_last_run_timestamp_seconds", now),
        ("reliability_job_success", 0),
        ("reliability_job_duration_seconds", 42.0),
        ("backup_verified", 0),
        ("backup_suspicious", 0),
    ]:
        Gauge(name, name, registry=registry).set(value)
    grouping_key = {"database": database}
    pushadd_to_gateway(pushgateway_url, job="backup_verify", registry=registry, grouping_key=grouping_key)
    return {"job": "backup_verify", **grouping_key}


def delete_pushed_group(pushgateway_url: str, group: Mapping[str, str]) -> None:
    """Remove one group (``job`` plus its grouping labels) from the Pushgateway."""
    labels = dict(group)
    job = labels.pop("job")
    delete_from_gateway(pushgateway_url, job=job, grouping_key=labels)


def _has_labels(item: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    return all(item["labels"].get(k) == v for k, v in labels.items())


def firing_alerts(prometheus_url: str) -> list[dict[str, Any]]:
    response = requests.get(f"{prometheus_url}/api/v1/alerts", timeout=5)
    response.raise_for_status()
    return [a for a in response.json()["data"]["alerts"] if a["state"] == "firing"]


def wait_for_firing_alert(
    prometheus_url: str, alertname: str, labels: Mapping[str, str], timeout: float = 30.0
) -> dict[str, Any]:
    """The alert as Prometheus's /api/v1/alerts shows it once it fires with (at least) ``labels``."""
    wanted = {"alertname": alertname, **labels}

    def firing() -> dict[str, Any] | None:
        return next((a for a in firing_alerts(prometheus_url) if _has_labels(a, wanted)), None)

    return wait_until(firing, timeout, f"{alertname} {dict(labels)} to fire in Prometheus")


def wait_until_resolved(
    prometheus_url: str, slack_receiver: Any, alertname: str, labels: Mapping[str, str], timeout: float = 30.0
) -> None:
    """Wait until ``alertname`` with ``labels`` has resolved in Prometheus and Slack was told so.

    Call it after removing what raised the alert. Alertmanager only notifies a change of what is
    firing: a test that raised the same alert again before the resolved notice went out would wait
    for a message that never comes.
    """
    wanted = {"alertname": alertname, **labels}

    def resolved() -> bool:
        response = requests.get(f"{prometheus_url}/api/v1/alerts", timeout=5)
        response.raise_for_status()
        return not any(_has_labels(a, wanted) for a in response.json()["data"]["alerts"])

    wait_until(resolved, timeout, f"{alertname} {dict(labels)} to resolve in Prometheus")
    wait_for_slack_message(slack_receiver, [f"[RESOLVED] {alertname}"], timeout)


def alertmanager_alerts(alertmanager_url: str, alertname: str) -> list[dict[str, Any]]:
    """Alerts Alertmanager holds under ``alertname``, silenced and inhibited ones included."""
    response = requests.get(
        f"{alertmanager_url}/api/v2/alerts",
        params={
            "filter": f'alertname="{alertname}"',
            "silenced": "true",
            "inhibited": "true",
            "active": "true",
        },
        timeout=5,
    )
    response.raise_for_status()
    return response.json()


def _slack_text(message: Mapping[str, Any]) -> str:
    parts = [str(message.get("text", ""))]
    for attachment in message.get("attachments", []):
        parts += [str(attachment.get("title", "")), str(attachment.get("text", ""))]
    return "\n".join(parts)


def wait_for_slack_message(
    slack_receiver: Any, needles: Iterable[str], timeout: float = 30.0
) -> dict[str, Any]:
    """The first message at the fake Slack webhook whose title or text holds every string in ``needles``."""
    needles = list(needles)

    def delivered() -> dict[str, Any] | None:
        return next(
            (m for m in list(slack_receiver.messages) if all(n in _slack_text(m) for n in needles)), None
        )

    try:
        return wait_until(delivered, timeout, f"a Slack message mentioning {needles}")
    except AssertionError as timed_out:
        titles = [a.get("title") for m in list(slack_receiver.messages) for a in m.get("attachments", [])]
        raise AssertionError(f"{timed_out}; messages that did arrive: {titles}") from None


def assert_alert_delivered(
    prometheus_url: str,
    slack_receiver: Any,
    alertname: str,
    labels: Mapping[str, str],
    contains: Iterable[str] = (),
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Wait for ``alertname`` to fire in Prometheus and then to arrive at the Slack receiver.

    Returns the Slack message. Call it after whatever should raise the alert: a real job run against
    a corrupt dump, or :func:`push_corrupt_backup_run`.
    """
    alert = wait_for_firing_alert(prometheus_url, alertname, labels, timeout)
    assert alert["labels"]["severity"] in {"critical", "warning"}, alert
    return wait_for_slack_message(slack_receiver, [alertname, *contains], timeout)
