"""docker-compose.yaml as Debian's docker-compose resolves it with the variables of .env.example."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.monitoring.alert_delivery import CONTAINER_SECRETS_DIR, REPO

COMPOSE_FILE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
CONNECTION_IDS = {
    "reliability_source_db",
    "reliability_scratch_db",
    "reliability_results_db",
    "reliability_s3",
    "reliability_pushgateway",
    "reliability_slack",
    "uptimerobot",
    "reliability_redis",
    "reliability_prometheus",
}


def compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    # Only the env file may feed the interpolation, not whatever the test runner's shell exports.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(env_file.parent)}
    return subprocess.run(
        [
            "docker-compose",
            "--project-directory",
            str(REPO),
            "-f",
            str(COMPOSE_FILE),
            "--env-file",
            str(env_file),
            "config",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def resolved(tmp_path_factory) -> dict[str, Any]:
    env_file = tmp_path_factory.mktemp("compose") / "test.env"
    env_file.write_text(ENV_EXAMPLE.read_text())
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_resolves_with_the_example_environment(resolved):
    assert AIRFLOW_SERVICES | {
        "postgres",
        "redis",
        "pushgateway",
        "prometheus",
        "alertmanager",
        "grafana",
        "minio",
        "minio-init",
    } <= set(resolved["services"])


def test_compose_refuses_to_run_without_a_required_secret(tmp_path):
    env_file = tmp_path / "test.env"
    env_file.write_text(re.sub(r"(?m)^AIRFLOW_FERNET_KEY=.*\n", "", ENV_EXAMPLE.read_text()))
    result = compose_config(env_file)
    assert result.returncode != 0
    assert "set AIRFLOW_FERNET_KEY in .env" in result.stderr


def test_env_example_holds_no_real_secret():
    secret_names = re.compile(r"PASSWORD|SECRET|KEY_ID|_KEY$|DSN|WEBHOOK")
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        if secret_names.search(name):
            assert value == "" or value.startswith("change-me"), name


def test_every_repository_path_compose_mounts_or_builds_exists(resolved):
    sources = [resolved["services"]["airflow-worker"]["build"]["context"]]
    for service in resolved["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith("/"):
                sources.append(source)
    mounted = {Path(s) for s in sources}
    assert {
        REPO / "dags",
        REPO / "plugins",
        REPO / "include",
        REPO / "monitoring" / "prometheus" / "rules",
        REPO / "monitoring" / "grafana" / "dashboards",
    } <= mounted
    for path in mounted:
        assert REPO in path.parents or path == REPO, f"{path} is outside the repository"
        assert path.exists(), f"docker-compose.yaml mounts {path}, which does not exist"
    assert (REPO / "Dockerfile").exists()


def _container_mounts(service: dict[str, Any]) -> dict[str, Path]:
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("/"):
            mounts[target] = Path(source)
    return mounts


def test_monitoring_configs_find_their_files_where_compose_mounts_them(resolved):
    services = resolved["services"]
    prometheus = _container_mounts(services["prometheus"])
    config = yaml.safe_load(prometheus["/etc/prometheus/prometheus.yml"].read_text())
    for pattern in config["rule_files"]:
        directory, glob = pattern.rsplit("/", 1)
        assert list(prometheus[directory].glob(glob)), pattern
    for job in config["scrape_configs"]:
        for sd in job.get("file_sd_configs", []):
            for file in sd["files"]:
                directory, name = file.rsplit("/", 1)
                assert (prometheus[directory] / name).exists(), file

    alertmanager = _container_mounts(services["alertmanager"])
    config = yaml.safe_load(alertmanager["/etc/alertmanager/alertmanager.yml"].read_text())
    for pattern in config["templates"]:
        directory, glob = pattern.rsplit("/", 1)
        assert list(alertmanager[directory].glob(glob)), pattern
    secret_files = set(re.findall(rf"{CONTAINER_SECRETS_DIR}/(\w+)", yaml.safe_dump(config)))
    mounted_secrets = {s["source"] if isinstance(s, dict) else s for s in services["alertmanager"]["secrets"]}
    assert secret_files == mounted_secrets and secret_files <= set(resolved["secrets"])

    grafana = _container_mounts(services["grafana"])
    provider_file = grafana["/etc/grafana/provisioning"] / "dashboards" / "reliability.yml"
    (provider,) = yaml.safe_load(provider_file.read_text())["providers"]
    assert list(grafana[provider["options"]["path"]].glob("*.json"))


def test_airflow_services_share_one_configuration(resolved):
    services = resolved["services"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["PYTHONPATH"] == "/opt/airflow/include", name
        assert env["_PIP_ADDITIONAL_REQUIREMENTS"] == "", name
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert services[name]["image"] == services["airflow-worker"]["image"], name
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-worker"]["deploy"]["replicas"] == 2


def test_sentry_is_configured_from_the_environment_with_a_sampled_pii_free_default(resolved):
    env = resolved["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__SENTRY__SENTRY_ON"] == "false"
    assert env["AIRFLOW__SENTRY__ENVIRONMENT"] == "local"
    assert env["AIRFLOW__SENTRY__SAMPLE_RATE"] == "0.2"
    assert env["AIRFLOW__SENTRY__SEND_DEFAULT_PII"] == "false"
    assert "AIRFLOW__SENTRY__SENTRY_DSN" in env


def test_every_connection_of_the_architecture_is_set_as_json(resolved):
    env = resolved["services"]["airflow-worker"]["environment"]
    connections = {
        name.removeprefix("AIRFLOW_CONN_").lower(): json.loads(value)
        for name, value in env.items()
        if name.startswith("AIRFLOW_CONN_")
    }
    assert set(connections) == CONNECTION_IDS
    assert {c["conn_type"] for c in connections.values()} == {
        "postgres",
        "aws",
        "http",
        "slackwebhook",
        "redis",
    }
    assert connections["reliability_s3"]["extra"]["endpoint_url"] == "http://minio:9000"
    assert connections["reliability_pushgateway"]["host"] == "pushgateway"


def test_secrets_are_interpolated_without_defaults():
    secret = re.compile(r"\$\{(\w*(?:PASSWORD|SECRET|_KEY|KEY_ID|DSN|WEBHOOK_URL)\w*)(?::?([-?])([^}]*))?\}")
    found = secret.findall(COMPOSE_FILE.read_text())
    assert len(found) > 10
    for name, operator, default in found:
        if name.endswith("_FILE"):
            continue  # where a secret file lives is not itself a secret
        assert operator == "?" or default == "", f"${{{name}}} has a default value in docker-compose.yaml"


def test_long_running_services_have_healthchecks_and_start_in_order(resolved):
    services = resolved["services"]
    for name, service in services.items():
        if name not in {"airflow-init", "minio-init"}:
            assert "healthcheck" in service, name
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
    assert services["prometheus"]["depends_on"]["pushgateway"]["condition"] == "service_healthy"
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"


def test_services_without_a_login_of_their_own_listen_on_loopback_only(resolved):
    for name in ("prometheus", "alertmanager", "minio"):
        for port in resolved["services"][name]["ports"]:
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), (name, port)
    for name in ("pushgateway", "redis", "postgres", "reliability-db"):
        assert "ports" not in resolved["services"][name], name
