"""A throwaway PostgreSQL cluster made with the machine's own ``initdb``/``pg_ctl``.

The server refuses to run as root, so when we are root the cluster's folder is handed to the
``postgres`` user and the server binaries run as that user. Only TCP on 127.0.0.1 is used, with
password (SCRAM) authentication, so that connection strings carry a real secret as in production.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from stack.processes import free_port, port_open

SUPERUSER = "reliability"


def pg_bindir() -> Path:
    """The newest installed PostgreSQL server's bin folder (``PG_BINDIR`` overrides)."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
            "install them with `apt-get install postgresql`"
        )
    return Path(candidates[-1]).parent


def _run_as_owner(argv: list[str], owner: str | None, **kwargs) -> subprocess.CompletedProcess:
    if owner:
        argv = ["runuser", "-u", owner, "--", *argv]
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(
            f"{Path(argv[4 if owner else 0]).name} failed (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-2000:]}"
        )
    return result


@dataclass
class PgCluster:
    """A PostgreSQL cluster under ``root`` listening on 127.0.0.1:``port``."""

    root: Path
    port: int
    password: str
    user: str = SUPERUSER
    host: str = "127.0.0.1"

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def owner(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}:{quote(self.password, safe='')}@{self.host}:{self.port}/{dbname}"

    def airflow_uri(self, dbname: str) -> str:
        return f"postgres://{self.user}:{quote(self.password, safe='')}@{self.host}:{self.port}/{dbname}"

    @classmethod
    def open(cls, root: Path) -> PgCluster:
        """The cluster already made under ``root``."""
        root = Path(root).resolve()
        meta = root / "cluster.env"
        if not meta.exists():
            raise FileNotFoundError(
                f"no PostgreSQL cluster under {root}: start the stack with `python -m stack up`"
            )
        values = dict(line.split("=", 1) for line in meta.read_text().split())
        return cls(root=root, port=int(values["port"]), password=values["password"])

    @classmethod
    def create(cls, root: Path, port: int | None = None) -> PgCluster:
        """initdb a new cluster (or reopen the one already under ``root``)."""
        root = Path(root).resolve()
        if (root / "cluster.env").exists():
            return cls.open(root)
        meta = root / "cluster.env"
        root.mkdir(parents=True, exist_ok=True)
        cluster = cls(root=root, port=port or free_port(), password=secrets.token_urlsafe(18))
        owner = cluster.owner
        pwfile = root / "pwfile"
        pwfile.write_text(cluster.password + "\n")
        if owner:
            info = pwd.getpwnam(owner)
            os.chown(root, info.pw_uid, info.pw_gid)
            os.chown(pwfile, info.pw_uid, info.pw_gid)
        pwfile.chmod(0o600)
        try:
            _run_as_owner(
                [
                    str(pg_bindir() / "initdb"),
                    "-D",
                    str(cluster.datadir),
                    "-U",
                    cluster.user,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                owner,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        meta.write_text(f"port={cluster.port}\npassword={cluster.password}\n")
        meta.chmod(0o600)
        return cluster

    def start(self, timeout: float = 60.0) -> None:
        if self.running():
            return
        # Durability is pointless for a throwaway cluster; these make seeding and tests much faster.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=256MB -c max_wal_size=4GB"
        )
        _run_as_owner(
            [
                str(pg_bindir() / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            self.owner,
        )
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"PostgreSQL did not listen on {self.port}; see {self.root / 'server.log'}"
                )
            time.sleep(0.05)

    def running(self) -> bool:
        if not (self.datadir / "postmaster.pid").exists():
            return False
        result = subprocess.run(
            [str(pg_bindir() / "pg_ctl"), "-D", str(self.datadir), "status"],
            capture_output=True,
            text=True,
            **({"user": self.owner} if self.owner else {}),
        )
        return result.returncode == 0

    def stop(self, mode: str = "fast") -> None:
        if not self.datadir.exists() or not self.running():
            return
        _run_as_owner(
            [str(pg_bindir() / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"], self.owner
        )

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, dbname: str = "postgres", **kwargs):
        import psycopg

        return psycopg.connect(self.dsn(dbname), **kwargs)

    def create_database(self, name: str, exist_ok: bool = False) -> str:
        from psycopg import sql

        with self.connect(autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists and not exist_ok:
                raise RuntimeError(f"database {name!r} already exists")
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        with self.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
