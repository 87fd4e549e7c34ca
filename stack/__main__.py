"""``python -m stack up|down|status|env``: the local stack for the demo and for opening the Airflow UI.

``up`` is safe to run twice (it reuses what is already running) and ``down`` is safe on a half-started
stack. All state lives in ``$STACK_DIR`` (default ``.stack/`` at the project root).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import sys
from pathlib import Path

from stack import airflow, services
from stack.postgres import PgCluster
from stack.processes import free_port, port_open, running_pid, stop_process

ROOT = Path(__file__).resolve().parents[1]
# `.venv/bin/python -m stack` from the project root, as the README says: the library is under include/.
if str(ROOT / "include") not in sys.path:
    sys.path.insert(1, str(ROOT / "include"))
SERVICES = (
    "s3",
    "pushgateway",
    "slack",
    "uptimerobot",
    "platform-redis",
    "platform-metrics",
    "platform-prometheus",
)
BUCKET = "reliability-backups"
PLATFORM_DB = "platform"
RESULTS_DB = "reliability_results"


def stack_dir() -> Path:
    return Path(os.environ.get("STACK_DIR", ROOT / ".stack")).resolve()


def _state(state: Path) -> dict:
    path = state / "stack.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    # A stack.json from before a service was added gets that service's port (and secret) on the next read.
    missing = {name: free_port() for name in (*SERVICES, "airflow_api") if name not in values}
    if not values:
        missing["slack_token_path"] = (
            f"T{secrets.token_hex(4).upper()}/B{secrets.token_hex(4).upper()}/{secrets.token_urlsafe(18)}"
        )
        missing["uptimerobot_api_key"] = "u" + secrets.token_hex(4) + "-" + secrets.token_hex(12)
    if "platform_redis_password" not in values:
        missing["platform_redis_password"] = "r3dis-" + secrets.token_hex(10)
    if missing:
        values.update(missing)
        state.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
    return values


def cluster(state: Path) -> PgCluster:
    return PgCluster.open(state / "postgres")


def environment(state: Path) -> dict[str, str]:
    values = _state(state)
    pg = cluster(state)
    return airflow.environment(
        airflow.Endpoints(
            airflow_home=state / "airflow",
            source_db_uri=pg.airflow_uri(PLATFORM_DB),
            scratch_db_uri=pg.airflow_uri("postgres"),
            results_db_uri=pg.airflow_uri(RESULTS_DB),
            s3_url=f"http://127.0.0.1:{values['s3']}",
            bucket=BUCKET,
            pushgateway_port=values["pushgateway"],
            slack_webhook_url=f"http://127.0.0.1:{values['slack']}/services/{values['slack_token_path']}",
            uptimerobot_url=f"http://127.0.0.1:{values['uptimerobot']}",
            uptimerobot_api_key=values["uptimerobot_api_key"],
            api_port=values["airflow_api"],
            log_path=state / "logs" / "backup-monitor.log",
            redis_url=f"redis://127.0.0.1:{values['platform-redis']}/0",
            redis_password=values["platform_redis_password"],
            prometheus_url=f"http://127.0.0.1:{values['platform-prometheus']}",
        )
    )


def up(state: Path, scale: float) -> dict[str, str]:
    values = _state(state)
    pg = PgCluster.create(state / "postgres")
    pg.start()
    from stack.platform import seed_platform, seed_recent_assistant_calls, tenants_with_sites

    platform_dsn = pg.create_database(PLATFORM_DB, exist_ok=True)
    counts = seed_platform(platform_dsn, scale)
    recent = seed_recent_assistant_calls(platform_dsn)
    results_dsn = pg.create_database(RESULTS_DB, exist_ok=True)
    from reliability.core.store import migrate

    migrate(results_dsn)
    print(
        f"postgres     127.0.0.1:{pg.port}  platform: {sum(counts.values()):,} rows; results store migrated"
    )
    if recent:
        print(f"postgres     platform: {recent:,} assistant calls added up to now (performance_watchdog)")

    starters = {
        "s3": lambda: services.start_moto(state, values["s3"]),
        "pushgateway": lambda: services.start_pushgateway(state, values["pushgateway"]),
        "slack": lambda: services.start_fake_slack(state, values["slack"], values["slack_token_path"]),
        "uptimerobot": lambda: _start_uptimerobot(state, values, platform_dsn, tenants_with_sites),
        "platform-redis": lambda: services.start_platform_redis(
            state, values["platform-redis"], values["platform_redis_password"], name="platform-redis"
        ),
        "platform-metrics": lambda: services.start_platform_metrics(state, values["platform-metrics"]),
        "platform-prometheus": lambda: services.start_platform_prometheus(
            state, values["platform-prometheus"], [f"127.0.0.1:{values['platform-metrics']}"]
        ),
    }
    for name, start in starters.items():
        if running_pid(name, state) and port_open(values[name]):
            print(f"{name:<12} 127.0.0.1:{values[name]}  (already running)")
            continue
        stop_process(name, state)
        start()
        print(f"{name:<12} 127.0.0.1:{values[name]}")
    _seed_object_store(values)
    env = environment(state)
    passwords = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    if not passwords.exists():
        passwords.parent.mkdir(parents=True, exist_ok=True)
        passwords.write_text(json.dumps({"admin": secrets.token_urlsafe(12)}))
        passwords.chmod(0o600)
    print(f"airflow UI   user admin, password in {passwords}")
    return env


def _start_uptimerobot(state: Path, values: dict, platform_dsn: str, tenants_with_sites) -> None:
    tenants_file = state / "uptimerobot-tenants.json"
    tenants_file.write_text(json.dumps(tenants_with_sites(platform_dsn), indent=1))
    key_file = state / "uptimerobot.key"
    key_file.write_text(values["uptimerobot_api_key"])
    key_file.chmod(0o600)
    services.start_fake_uptimerobot(state, values["uptimerobot"], tenants_file, key_file)


def _seed_object_store(values: dict) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{values['s3']}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    if BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=BUCKET)
        from stack.demo_builds import seed_demo_builds
        from stack.demo_uploads import seed_demo_uploads

        seed_demo_uploads(s3, BUCKET)
        seed_demo_builds(s3, BUCKET)
        print(f"s3           bucket {BUCKET}: demo uploads and builds seeded")


def down(state: Path) -> None:
    for name in SERVICES:
        if stop_process(name, state):
            print(f"stopped {name}")
    if (state / "postgres" / "cluster.env").exists():
        cluster(state).stop()
        print("stopped postgres")


def status(state: Path) -> int:
    if not (state / "stack.json").exists():
        print(f"no stack under {state}")
        return 1
    values = _state(state)
    healthy = True
    for name in SERVICES:
        ok = bool(running_pid(name, state)) and port_open(values[name])
        healthy &= ok
        print(f"{name:<12} 127.0.0.1:{values[name]}  {'up' if ok else 'down'}")
    try:
        pg = cluster(state)
    except FileNotFoundError:
        print(f"{'postgres':<12} not created")
        return 1
    pg_ok = pg.running()
    healthy &= pg_ok
    print(f"{'postgres':<12} 127.0.0.1:{pg.port}  {'up' if pg_ok else 'down'}")
    return 0 if healthy else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__.partition("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up_cmd = sub.add_parser("up", help="start (or reuse) the stack and print its environment file")
    up_cmd.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("PLATFORM_SCALE", "1")),
        help="platform data size: 1 = about 300,000 rows",
    )
    sub.add_parser("down", help="stop everything the stack started")
    sub.add_parser("status", help="show what runs")
    sub.add_parser("env", help="print the environment as shell exports")
    args = parser.parse_args(argv)
    state = stack_dir()
    if args.command == "up":
        try:
            env = up(state, args.scale)
        except BaseException:
            print("stack up failed: stopping what is running, so nothing is left behind", file=sys.stderr)
            down(state)
            raise
        (state / "env.sh").write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))
        (state / "env.sh").chmod(0o600)
        print(f"environment: source {state / 'env.sh'}")
        return 0
    if args.command == "down":
        down(state)
        return 0
    if args.command == "status":
        return status(state)
    for key, value in environment(state).items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
