"""What the source database says it holds, read just before the dump: the yardstick of the dump's TOC.

The tables are those pg_dump would dump: ordinary and partitioned tables outside the system schemas,
not belonging to an extension (pg_dump leaves those to ``CREATE EXTENSION``), minus the configured
exclusions. ``pg_class.reltuples`` is the planner's row estimate: free to read, good enough to tell a
big table from an empty one (-1 means never analysed).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

_TABLES = """
SELECT n.nspname, c.relname, c.relkind, c.reltuples::bigint
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""


@dataclass(frozen=True)
class SourceTable:
    schema: str
    name: str
    kind: str  # r = table (has data), p = partitioned (its partitions hold the data)
    reltuples: int

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class SourceCatalog:
    dbname: str
    server_version: str
    tables: tuple[SourceTable, ...]


class CatalogUnavailable(RuntimeError):
    pass


def excluded(schema: str, name: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(fnmatchcase(f"{schema}.{name}", pattern) for pattern in patterns)


def read_catalog(dsn: str, exclude_tables: tuple[str, ...] | list[str] = ()) -> SourceCatalog:
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=30) as conn:
            dbname, version = conn.execute(
                "SELECT current_database(), current_setting('server_version')"
            ).fetchone()
            rows = conn.execute(_TABLES).fetchall()
    except psycopg.Error as exc:
        # psycopg's messages name host, port and user but never the password.
        raise CatalogUnavailable(f"could not read the source catalog: {str(exc).strip()}") from None
    tables = tuple(
        SourceTable(schema=s, name=n, kind=k, reltuples=int(t))
        for s, n, k, t in rows
        if not excluded(s, n, exclude_tables)
    )
    return SourceCatalog(dbname=dbname, server_version=version, tables=tables)
