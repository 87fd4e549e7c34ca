"""Great Expectations 1.x suites for the restored tables, run against the scratch database.

A table's suite holds the expectations declared for it in ``expectations.yaml``: the checks nothing else
makes. Row counts, columns and key uniqueness are proven already by the digests, the catalog and
the primary key's index with pg_amcheck (:mod:`reliability.restore.validate`). GX runs with
an ephemeral context (nothing written to disk), analytics and progress bars off, on a SQL datasource, so
every expectation is a query in PostgreSQL and no table is pulled into memory.

Suites run first with ``BOOLEAN_ONLY`` (one query per check); a table that fails is validated again with
``SUMMARY`` so its result says what was unexpected. The result JSON of every table is kept, with the
database password scrubbed from it.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from reliability.backups.names import split_qualified
from reliability.core.config import ConfigError
from reliability.core.scrub import scrub, scrub_text
from reliability.restore.declared import DeclaredExpectation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSpec:
    """A restored table with declared expectations."""

    name: str  # as in the manifest
    schema: str
    table: str


@dataclass(frozen=True)
class ExpectationFailure:
    table: str
    expectation: str  # e.g. expect_column_values_to_be_in_set(plan)
    detail: str  # counts and observed values only: no row contents, which may be personal data

    def describe(self) -> str:
        return f"{self.table}: {self.expectation} failed ({self.detail})"


@dataclass(frozen=True)
class ExpectationsReport:
    per_table: dict[str, tuple[int, int]]  # table -> (evaluated, failed)
    failures: tuple[ExpectationFailure, ...]
    skipped: tuple[str, ...]  # declared expectations whose table is not in the manifest
    results: dict[str, Any] = field(default_factory=dict)  # table -> GX validation result JSON
    seconds: float = 0.0
    import_seconds: float = 0.0  # of ``seconds``, importing GX (zero when already imported)

    @property
    def evaluated(self) -> int:
        return sum(evaluated for evaluated, _ in self.per_table.values())

    @property
    def failed(self) -> int:
        return sum(failed for _, failed in self.per_table.values())


def _gx_expectations():
    # Analytics would try to phone home; GX reads the switch when it is first imported.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations.expectations as gxe

    return gxe


def _class_name(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def build_declared(declared: tuple[DeclaredExpectation, ...]) -> list[tuple[DeclaredExpectation, Any]]:
    """GX expectation objects for the declared entries; an unknown type or bad argument names its entry."""
    gxe = _gx_expectations()
    built = []
    for item in declared:
        cls = getattr(gxe, _class_name(item.type), None)
        if cls is None or not isinstance(cls, type):
            raise ConfigError(f"{item.where}: {item.type} is not a Great Expectations 1.x expectation")
        try:
            built.append((item, cls(**item.kwargs)))
        except (TypeError, ValueError) as exc:  # GX's pydantic ValidationError is a ValueError
            lines = [line.strip() for line in str(exc).strip().splitlines()[1:]]
            raise ConfigError(
                f"{item.where}: invalid arguments for {item.type}: {'; '.join(lines) or type(exc).__name__}"
            ) from None
    return built


def sqlalchemy_url(dsn: str) -> tuple[str, str | None]:
    """A SQLAlchemy URL (psycopg 3 driver, ``host:port`` form) for ``dsn``, and the password to scrub."""
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    params = conninfo_to_dict(dsn)
    password = params.pop("password", None)
    query = {
        k: str(v)
        for k, v in params.items()
        if k in ("sslmode", "sslrootcert", "connect_timeout", "options", "application_name")
    }
    url = URL.create(
        "postgresql+psycopg",
        username=params.get("user"),
        password=password,
        host=params.get("host") or "localhost",
        port=int(params.get("port") or 5432),
        database=params.get("dbname"),
        query=query,
    )
    return url.render_as_string(hide_password=False), (str(password) if password else None)


def _describe(config: dict[str, Any]) -> str:
    kwargs = config.get("kwargs", {})
    target = kwargs.get("column") or ",".join(kwargs.get("column_list") or ())
    return f"{config['type']}({target})" if target and "column_list" not in config["type"] else config["type"]


def _detail(result: dict[str, Any], secret: str | None) -> str:
    info = result.get("exception_info") or {}
    if info.get("raised_exception"):
        message = re.sub(r"\s+", " ", str(info.get("exception_message") or "error"))[:300]
        return f"could not be evaluated: {scrub_text(message, (secret,))}"
    outcome = result.get("result") or {}
    if "unexpected_count" in outcome:
        return f"{outcome['unexpected_count']} unexpected of {outcome.get('element_count', '?')} values"
    if "observed_value" in outcome:
        kwargs = result.get("expectation_config", {}).get("kwargs", {})
        expected = kwargs.get("value", kwargs.get("column_list"))
        return f"observed {outcome['observed_value']}, expected {expected}"
    return "failed"


def run_expectations(
    dsn: str, specs: list[TableSpec], declared: tuple[DeclaredExpectation, ...] = ()
) -> ExpectationsReport:
    """Validate every table of ``specs`` in the database of ``dsn`` with its declared suite."""
    started = time.monotonic()
    if not declared:
        return ExpectationsReport({}, (), ())
    built = build_declared(declared)  # imports GX: counted apart in the timings
    import great_expectations as gx

    imported = time.monotonic()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    by_table: dict[tuple[str, str], list[Any]] = {}
    skipped = []
    wanted = {(s.schema, s.table) for s in specs}
    for item, expectation in built:
        key = split_qualified(item.table)
        if key in wanted:
            by_table.setdefault(key, []).append(expectation)
        else:
            skipped.append(f"{item.where} ({item.type}): table not in the backup")
    url, secret = sqlalchemy_url(dsn)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_postgres("scratch", connection_string=url)
    per_table: dict[str, tuple[int, int]] = {}
    failures: list[ExpectationFailure] = []
    results: dict[str, Any] = {}
    try:
        for spec in specs:
            asset = source.add_table_asset(
                f"{spec.schema}.{spec.table}", table_name=spec.table, schema_name=spec.schema
            )
            batch = asset.add_batch_definition_whole_table("whole").get_batch()
            suite = gx.ExpectationSuite(
                name=f"restore_test.{spec.name}",
                expectations=by_table.get((spec.schema, spec.table), []),
            )
            result = batch.validate(suite, result_format="BOOLEAN_ONLY")
            if not result.success:
                result = batch.validate(suite, result_format="SUMMARY")
            data = scrub(result.to_json_dict(), secrets=(secret,))
            results[spec.name] = data
            failed = [r for r in data["results"] if not r["success"]]
            per_table[spec.name] = (len(data["results"]), len(failed))
            failures.extend(
                ExpectationFailure(spec.name, _describe(r["expectation_config"]), _detail(r, secret))
                for r in failed
            )
    finally:
        try:
            source.get_execution_engine().close()
        except Exception as exc:  # closing is best effort: the teardown drops the database WITH (FORCE)
            log.debug("closing the GX engine failed: %s", type(exc).__name__)
    return ExpectationsReport(
        per_table=per_table,
        failures=tuple(failures),
        skipped=tuple(skipped),
        results=results,
        seconds=time.monotonic() - started,
        import_seconds=imported - started,
    )
