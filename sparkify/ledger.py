"""What earlier loads recorded: per source, each loaded file's size and version
(raw.loaded_files), and the location of its last successful load (raw.load_audit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]

# Both queries return (source_table, file_name, file_size, file_version) rows, the first
# with the loaded files, the second with the location of each source's last successful
# load as its file_name, so that one read answers both.
LEDGER_QUERY = """
select source_table, file_name, file_size, file_version from {schema}.loaded_files
union all
select source_table, location, null, 'location'
from (
    select
        source_table,
        location,
        row_number() over (partition by source_table order by finished_at desc) as recency
    from {schema}.load_audit
    where status = 'loaded'
) as loads
where recency = 1
"""


@cache
def raw_schema() -> str:
    """The schema of the raw tables, as dbt_project.yml's var raw_schema names it."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    return project["vars"]["raw_schema"]


@dataclass
class Ledger:
    files: dict[str, dict[str, tuple[int | None, str | None]]] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows) -> Ledger:
        ledger = cls()
        for source_table, name, size, version in rows:
            if version == "location" and size is None:
                ledger.locations[source_table] = name
            else:
                ledger.files.setdefault(source_table, {})[name] = (size, version)
        return ledger


def read_duckdb(path: Path) -> Ledger:
    """The ledger of a DuckDB warehouse, read before dbt opens it; empty before a first load."""
    import duckdb

    if not path.exists():
        return Ledger()
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = {row[0] for row in connection.execute(
            "select table_name from information_schema.tables where table_schema = ?", [raw_schema()]
        ).fetchall()}  # fmt: skip
        if not {"loaded_files", "load_audit"} <= tables:
            return Ledger()
        return Ledger.from_rows(connection.execute(LEDGER_QUERY.format(schema=raw_schema())).fetchall())


class LedgerError(RuntimeError):
    """The ledger could not be read, so the load cannot tell what is new."""


def read_with_dbt(runner, target_args: list[str]) -> Ledger:
    """The ledger of a warehouse that only dbt reaches (Redshift), through dbt show; the
    load's tables are created first, so that a first load reads an empty ledger."""
    created = runner.invoke(["--quiet", "run-operation", "create_load_tables", *target_args])
    query = LEDGER_QUERY.format(schema=raw_schema())
    shown = created.success and runner.invoke(["--quiet", "show", "--inline", query, "--limit", "-1", *target_args])
    if not shown or not shown.success:
        raise LedgerError(f"could not read the ledger {raw_schema()}.loaded_files; see the dbt messages above")
    return Ledger.from_rows(shown.result.results[0].agate_table.rows)
