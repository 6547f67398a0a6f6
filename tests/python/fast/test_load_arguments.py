"""What `make load` refuses before dbt starts: a location it cannot read, a threshold out of
range, a FULL_REFRESH that is neither 1 nor 0. Each is one line, and nothing is written."""

from __future__ import annotations

import subprocess

from support.project import PROJECT_DIR


def test_a_location_or_threshold_that_cannot_load_fails_in_one_line_before_dbt(warehouse, small_dataset, tmp_path):
    (tmp_path / "empty").mkdir()
    attempts = {
        (str(tmp_path / "nowhere"), "0"): f"error: {tmp_path / 'nowhere'} is not a folder: pass LOCATION=",
        (str(tmp_path / "empty"), "0"): f"error: no .json files under {tmp_path / 'empty'}/log_data/: the location",
        (str(small_dataset), "many"): "error: MAX_REJECTS must be a whole number from 0 to 99,999, got 'many'",
        (str(small_dataset), "100000"): "error: MAX_REJECTS must be a whole number from 0 to 99,999, got '100000'",
    }
    for (location, max_rejects), message in attempts.items():
        result = warehouse.run("python", "-m", "sparkify.load", "--location", location, "--max-rejects", max_rejects)

        assert result.returncode == 1
        [line] = result.stderr.splitlines()
        assert line.startswith(message)
        assert result.stdout == ""
    assert not warehouse.path.exists()


def test_make_refuses_a_full_refresh_that_is_neither_1_nor_0(warehouse, small_dataset):
    result = subprocess.run(
        ["make", "--no-print-directory", "load", f"LOCATION={small_dataset}", "FULL_REFRESH=no"],
        cwd=PROJECT_DIR, env=warehouse.env, capture_output=True, text=True,
    )  # fmt: skip

    assert result.returncode == 2
    assert "FULL_REFRESH=no: say 1 to reload and rebuild everything, or 0 (the default)" in result.stderr
    assert not warehouse.path.exists()
