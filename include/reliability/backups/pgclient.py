"""Running PostgreSQL's client programs (pg_dump, pg_restore) without leaking the password.

The connection string minus its password goes on the command line (``-d``); the password goes into the
child's environment as ``PGPASSWORD``, so it never shows in ``ps``, in logs or in error messages.
"""

from __future__ import annotations

import glob
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from reliability.backups.tabledigest import LIBPQ_ENV


class ClientNotFound(RuntimeError):
    pass


def client_binary(name: str) -> str:
    """``name`` from ``PG_BINDIR``, else the newest /usr/lib/postgresql/*/bin, else ``PATH``.

    pg_dump must be at least as new as the server; the newest installed client is the safe default.
    """
    if os.environ.get("PG_BINDIR"):
        candidate = Path(os.environ["PG_BINDIR"]) / name
        if not candidate.exists():
            raise ClientNotFound(f"{name} not found in PG_BINDIR={os.environ['PG_BINDIR']}")
        return str(candidate)
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if installed:
        return installed[-1]
    found = shutil.which(name)
    if not found:
        raise ClientNotFound(
            f"{name} not found: install the PostgreSQL client (apt-get install postgresql-client) "
            "or set PG_BINDIR"
        )
    return found


@dataclass(frozen=True)
class ClientConnection:
    """What a client program needs to reach one database; ``password`` stays out of ``repr``."""

    conninfo: str  # libpq key=value string without the password
    dbname: str
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_dsn(cls, dsn: str) -> ClientConnection:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(dsn)
        password = params.pop("password", None)
        # The session settings that make COPY text comparable go in ``options``; a connection string's own
        # ``options`` would override the PGOPTIONS variable, so both are merged here.
        params["options"] = " ".join(
            p for p in (str(params.get("options") or ""), LIBPQ_ENV["PGOPTIONS"]) if p
        )
        return cls(
            conninfo=make_conninfo(**params),
            dbname=str(params.get("dbname") or params.get("user") or ""),
            password=str(password) if password is not None else None,
        )

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LIBPQ_ENV)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def scrub(self, text: str) -> str:
        """``text`` with the password removed, for messages built from a client's stderr."""
        return text.replace(self.password, "[REDACTED]") if self.password else text


def restore_env() -> dict[str, str]:
    """Environment for pg_restore writing SQL to stdout: it connects nowhere, so it gets no credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") or k == "PG_BINDIR"}
    env.update(LIBPQ_ENV)
    return env


def enlarge_pipe(fileobj, size: int = 1 << 20) -> None:
    """Ask Linux for a bigger pipe buffer (default 64 KiB): fewer wake-ups per megabyte streamed."""
    import fcntl

    try:
        fcntl.fcntl(fileobj.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except OSError:
        pass  # above /proc/sys/fs/pipe-max-size or not a pipe: the default still works


def sort_stderr_line(
    program: str, line: str, errors: list[str], warnings: list[str], *, plain_is_error: bool
) -> None:
    """File one line of ``program``'s stderr (``pg_dump: error: ...``) under ``errors`` or ``warnings``.

    A ``detail:`` or ``hint:`` line is added to the error before it; a non-empty line without a level is
    an error only when ``plain_is_error`` (e.g. the program failed, or fewer errors than the cap are kept).
    """
    message = line.removeprefix(f"{program}: ")
    if message.startswith("error: "):
        errors.append(message.removeprefix("error: "))
    elif message.startswith(("detail: ", "hint: ")) and errors:
        errors[-1] += f" ({message})"
    elif message.startswith("warning: "):
        warnings.append(message.removeprefix("warning: "))
    elif message and plain_is_error:
        errors.append(message)
