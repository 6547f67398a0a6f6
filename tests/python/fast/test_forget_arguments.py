"""What `make forget` refuses before dbt starts: it erases only the user named on its own
command line, never one that the shell's environment happens to hold."""

from __future__ import annotations

import subprocess

from support.project import PROJECT_DIR


def test_make_forget_takes_no_user_id_from_the_environment(warehouse):
    # USER_ID is a common variable in containers (the user's uid).
    result = subprocess.run(
        ["make", "--no-print-directory", "forget", "REASON=request 1"],
        cwd=PROJECT_DIR, env={**warehouse.env, "USER_ID": "15"}, capture_output=True, text=True,
    )  # fmt: skip

    assert result.returncode != 0
    assert "error: USER_ID must be a user's id, a whole number such as 15; got ''" in result.stderr
    assert not warehouse.path.exists()
