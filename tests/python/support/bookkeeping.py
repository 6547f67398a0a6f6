"""What a load records on DuckDB, read back: staging, the audit, the rejects and the ledger."""

from __future__ import annotations


def staging_checksum(warehouse, table: str) -> list[tuple]:
    return warehouse.query(
        f"select count(*), md5(string_agg(cast(t as varchar), '' order by t)) "
        f"from (select * exclude (loaded_at) from raw.{table}) as t"
    )


def latest_audit(warehouse) -> list[tuple]:
    return warehouse.query(
        "select source_table, files_loaded, rows_loaded, rows_rejected, status, message from raw.load_audit "
        "where load_id = (select max_by(load_id, finished_at) from raw.load_audit) order by 1"
    )


def rejects(warehouse) -> list[tuple]:
    return warehouse.query(
        "select file_name, line_number, reason, raw_line from raw.load_rejects order by file_name, line_number"
    )


def assert_bookkeeping_agrees(warehouse) -> None:
    """The ledger counts exactly the staging rows of each file it lists, and nothing else."""
    for table in ("staging_events", "staging_songs"):
        staged = warehouse.query(f"select source_file, count(*) from raw.{table} group by 1 order by 1")
        ledger = warehouse.query(
            f"select file_name, rows_loaded from raw.loaded_files where source_table = '{table}' "
            "and rows_loaded > 0 order by 1"
        )
        assert staged == ledger, table
