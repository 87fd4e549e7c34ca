"""What a restore can get wrong that pg_restore, the digests and pg_amcheck do not see.

- Foreign keys: each one is checked on the restored rows with an anti-join, whatever its ``convalidated``
  flag says. A constraint restored ``NOT VALID``, or data loaded with triggers disabled, restores
  without an error and still leaves rows pointing at nothing.
- Sequences: the next value of each sequence owned by a column lies beyond that column's values;
  otherwise the first insert after a recovery collides with an existing key.
- Collation: ``pg_database.datcollversion`` against the version the server's collation library reports;
  a difference means text indexes may be ordered by other rules than the ones they were built with.
- ``NOT VALID`` constraints are listed: PostgreSQL does not vouch for them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

SYSTEM_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'"


@dataclass(frozen=True)
class ForeignKeyResult:
    table: str  # the referencing table, schema.table
    name: str
    references: str  # the referenced table
    validated: bool  # the constraint's flag as restored
    violations: int  # referencing rows without a referenced row

    @property
    def ok(self) -> bool:
        return self.violations == 0

    def describe(self) -> str:
        flag = "" if self.validated else " (restored NOT VALID)"
        return (
            f"foreign key {self.name} of table {self.table}{flag} does not hold: {self.violations:,} "
            f"row(s) reference no row of {self.references}"
        )


@dataclass(frozen=True)
class SequenceResult:
    table: str
    column: str
    name: str  # the sequence, schema.name
    next_value: int | None  # what nextval() would return
    column_extreme: int | None  # max (min for a descending sequence) of the column; None: empty
    ascending: bool = True

    @property
    def ok(self) -> bool:
        if self.column_extreme is None or self.next_value is None:
            return True
        if self.ascending:
            return self.next_value > self.column_extreme
        return self.next_value < self.column_extreme

    def describe(self) -> str:
        return (
            f"sequence {self.name} would next give {self.next_value:,}, but {self.table}.{self.column} "
            f"already holds {self.column_extreme:,}: the first insert after a recovery would collide"
        )


@dataclass(frozen=True)
class Collation:
    recorded: str | None  # pg_database.datcollversion
    actual: str | None  # pg_database_collation_actual_version()
    note: str = ""

    @property
    def mismatch(self) -> bool:
        return bool(self.recorded and self.actual and self.recorded != self.actual)

    def describe(self) -> str:
        if self.mismatch:
            return (
                f"collation version {self.recorded} recorded for the database, the server's library "
                f"reports {self.actual}: text indexes may need REINDEX"
            )
        return self.note or (f"version {self.actual}" if self.actual else "not versioned")


@dataclass(frozen=True)
class NotValid:
    table: str
    name: str
    kind: str  # foreign key | check


@dataclass(frozen=True)
class IntegrityReport:
    foreign_keys: tuple[ForeignKeyResult, ...] = ()
    sequences: tuple[SequenceResult, ...] = ()
    not_valid: tuple[NotValid, ...] = ()
    collation: Collation = Collation(None, None, "not checked")
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "foreign_keys": len(self.foreign_keys),
            "foreign_keys_violated": sum(1 for f in self.foreign_keys if not f.ok),
            "foreign_key_violations": sum(f.violations for f in self.foreign_keys),
            "sequences": len(self.sequences),
            "sequences_behind": sum(1 for s in self.sequences if not s.ok),
            "not_valid_constraints": [f"{c.table}: {c.name} ({c.kind})" for c in self.not_valid[:20]],
            "not_valid_total": len(self.not_valid),
            "collation_mismatch": self.collation.mismatch,
            "collation": self.collation.describe()[:300],
        }


def _foreign_keys(conn) -> list[ForeignKeyResult]:
    from psycopg import sql

    rows = conn.execute(f"""
        SELECT con.conname, n.nspname, c.relname, rn.nspname, rc.relname, con.convalidated, con.confmatchtype,
               format('%I.%I', n.nspname, c.relname), format('%I.%I', rn.nspname, rc.relname),
               ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
               ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE con.contype = 'f' AND con.conparentid = 0 AND {SYSTEM_SCHEMAS}
        ORDER BY n.nspname, c.relname, con.conname""").fetchall()
    found = []
    for (
        name,
        schema,
        table,
        ref_schema,
        ref_table,
        validated,
        match,
        shown,
        ref_shown,
        columns,
        ref_columns,
    ) in rows:
        child, parent = sql.Identifier(schema, table), sql.Identifier(ref_schema, ref_table)
        own = [sql.SQL("c.{}").format(sql.Identifier(col)) for col in columns]
        all_set = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(c) for c in own)
        joined = sql.SQL(" AND ").join(
            sql.SQL("p.{} = {}").format(sql.Identifier(r), c) for r, c in zip(ref_columns, own, strict=True)
        )
        missing = sql.SQL("({}) AND NOT EXISTS (SELECT 1 FROM {} p WHERE {})").format(all_set, parent, joined)
        if match == "f":  # MATCH FULL: some but not all columns null is a violation too
            some_set = sql.SQL(" OR ").join(sql.SQL("{} IS NOT NULL").format(c) for c in own)
            missing = sql.SQL("{} OR (NOT ({}) AND ({}))").format(missing, all_set, some_set)
        violations = conn.execute(
            sql.SQL("SELECT count(*) FROM {} c WHERE {}").format(child, missing)
        ).fetchone()[0]
        found.append(ForeignKeyResult(shown, name, ref_shown, validated, violations))
    return found


def _sequences(conn) -> list[SequenceResult]:
    from psycopg import sql

    rows = conn.execute(f"""
        SELECT n.nspname, c.relname, a.attname, format('%I.%I', n.nspname, c.relname),
               format('%I.%I', s.schemaname, s.sequencename), s.last_value, s.start_value, s.increment_by
        FROM pg_depend d
        JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
        JOIN pg_namespace sn ON sn.oid = sc.relnamespace
        JOIN pg_sequences s ON s.schemaname = sn.nspname AND s.sequencename = sc.relname
        JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.deptype IN ('a', 'i') AND {SYSTEM_SCHEMAS}
        ORDER BY n.nspname, c.relname, a.attname""").fetchall()
    found = []
    for schema, table, column, shown, sequence, last, start, increment in rows:
        # Ascending: nextval must exceed the column's max; descending: stay below its min.
        extreme = sql.SQL("max" if increment > 0 else "min")
        value = conn.execute(
            sql.SQL("SELECT {}({})::numeric FROM {}").format(
                extreme, sql.Identifier(column), sql.Identifier(schema, table)
            )
        ).fetchone()[0]
        next_value = start if last is None else last + increment
        found.append(
            SequenceResult(
                shown,
                column,
                sequence,
                int(next_value),
                None if value is None else int(value),
                ascending=increment > 0,
            )
        )
    return found


def _not_valid(conn) -> list[NotValid]:
    rows = conn.execute(f"""
        SELECT format('%I.%I', n.nspname, c.relname), con.conname, con.contype
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT con.convalidated AND {SYSTEM_SCHEMAS}
        ORDER BY 1, 2""").fetchall()
    kinds = {"f": "foreign key", "c": "check"}
    return [NotValid(table, name, kinds.get(kind, kind)) for table, name, kind in rows]


def _collation(conn) -> Collation:
    import psycopg

    try:
        recorded, actual = conn.execute(
            """SELECT datcollversion, pg_database_collation_actual_version(oid) FROM pg_database
               WHERE datname = current_database()"""
        ).fetchone()
    except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedFunction):
        return Collation(None, None, "not available before PostgreSQL 15")
    return Collation(recorded, actual)


def check_integrity(dsn: str) -> IntegrityReport:
    """Every check of this module on the database of ``dsn`` (read-only)."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = on")
        return IntegrityReport(
            foreign_keys=tuple(_foreign_keys(conn)),
            sequences=tuple(_sequences(conn)),
            not_valid=tuple(_not_valid(conn)),
            collation=_collation(conn),
            seconds=time.monotonic() - started,
        )
