"""The DuckDB warehouse file, as the project's entry points share it.

    python -m sparkify.warehouse run -- .venv/bin/dbt build

DuckDB lets one process write a file, or several read it, and tells a second one so with a
raw ``IO Error: Could not set lock``, or (in dbt) with pages of tracebacks. So every command of
the project first takes an advisory lock (flock) on a file beside the warehouse,
``<warehouse>.lock``, for its whole life: of two commands started at the same instant one gets
it, and the other stops before it reaches DuckDB, in one line that names the holder. The lock
file holds the holder's PID; the kernel releases the lock when the holder ends, even killed.
Then DuckDB's own lock is tried, for a process outside the project (the duckdb CLI, a notebook).

Only the local (DuckDB) target has this file: `run` executes the command as it is for another
DBT_TARGET. This module needs duckdb and nothing else of the project's venv, so that the
dashboard's venv, which has no dbt, imports it too.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# The local target's warehouse, as profiles.example.yml resolves it.
DEFAULT_DUCKDB_PATH = "data/sparkify.duckdb"
# The exit status of a command that could not start because the warehouse is in use.
IN_USE_EXIT_STATUS = 2
# How long a command that lost the race waits for the winner to write its PID into the lock
# file, which it does right after taking the lock.
HOLDER_WAIT_SECONDS = 1.0


def duckdb_path() -> Path:
    """The local target's warehouse: SPARKIFY_DUCKDB_PATH, else data/sparkify.duckdb (as the profile says)."""
    return Path(os.environ.get("SPARKIFY_DUCKDB_PATH", DEFAULT_DUCKDB_PATH))


def lock_path(path: Path) -> Path:
    """The lock file beside a warehouse: data/sparkify.duckdb.lock."""
    return path.with_name(path.name + ".lock")


class WarehouseInUse(RuntimeError):
    """Another process holds the warehouse: the one line to tell the user."""

    def __init__(self, path: Path, who: str) -> None:
        super().__init__(
            f"the warehouse {path} is in use by {who}: DuckDB allows one writer. "
            "Wait for it to finish, or close it, then run the command again."
        )
        self.path = path
        self.who = who


def duckdb_lock_holder(error: BaseException) -> str | None:
    """Who holds the file, as "<program> (PID <n>)", when the error is DuckDB's "Could not set
    lock" ("another process" when it does not say); None for any other error."""
    import duckdb

    if not isinstance(error, duckdb.IOException) or "lock" not in str(error).lower():
        return None
    holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(error))
    return f"{holder.group(1)} (PID {holder.group(2)})" if holder else "another process"


def connect(path: Path, read_only: bool = False):
    """duckdb.connect to the warehouse, raising WarehouseInUse, not DuckDB's IO Error, when
    another process holds DuckDB's lock on the file."""
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as error:
        who = duckdb_lock_holder(error)
        if who is None:
            raise
        raise WarehouseInUse(path, who) from None


def check_duckdb_lock(path: Path, read_only: bool = False) -> None:
    """Raise WarehouseInUse when a process holds DuckDB's own lock on the file so that this
    one could not open it (read_only: to read). A missing file is free, and is not created."""
    if path.exists():
        connect(path, read_only).close()


@contextlib.contextmanager
def exclusive(path: Path | None = None, holder: str | None = None, *, inheritable: bool = False) -> Iterator[Path]:
    """Hold the warehouse (default: duckdb_path()) to write it, for the life of the context:
    raises WarehouseInUse when another command of the project holds it (naming its PID), or a
    process outside the project holds DuckDB's lock. `holder` describes this command in the
    message of the ones that lose (default: this Python command). With inheritable, the lock
    also passes to a program that replaces this process (os.exec*), and lasts until it ends."""
    with _locked(path, fcntl.LOCK_EX, holder, inheritable) as held:
        check_duckdb_lock(held)
        yield held


@contextlib.contextmanager
def shared(path: Path | None = None, holder: str | None = None) -> Iterator[Path]:
    """Hold the warehouse to read it: any number of readers hold it together, as DuckDB lets
    them, and no writer; otherwise as exclusive()."""
    with _locked(path, fcntl.LOCK_SH, holder, inheritable=False) as held:
        check_duckdb_lock(held, read_only=True)
        yield held


@contextlib.contextmanager
def _locked(path: Path | None, mode: int, holder: str | None, inheritable: bool) -> Iterator[Path]:
    path = duckdb_path() if path is None else path
    # DuckDB does not create the folder of its file; the lock file needs it too.
    path.parent.mkdir(parents=True, exist_ok=True)
    # Never truncated when opened, nor deleted: the loser of a race reads the winner's PID in
    # it, and a deleted lock file would let two commands lock two different files.
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + HOLDER_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                who = _recorded_holder(fd)
                if who is None and time.monotonic() < deadline:
                    time.sleep(0.01)  # the winner has the lock but has not written its PID yet
                    continue
                raise WarehouseInUse(path, who or "another process") from None
        record = f"{os.getpid()} {holder or _this_command()}\n".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
        os.set_inheritable(fd, inheritable)
        yield path
    finally:
        os.close(fd)


def _recorded_holder(fd: int) -> str | None:
    """The holder that the lock file names, as "<command> (PID <n>)"; None when it names none
    yet, or a process that has ended (the previous holder's record, not yet overwritten)."""
    recorded = re.fullmatch(r"(\d+) (.+)\n", os.pread(fd, 4096, 0).decode(errors="replace"))
    if not recorded:
        return None
    try:
        os.kill(int(recorded.group(1)), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # running, as another user
    return f"{recorded.group(2)} (PID {recorded.group(1)})"


def _this_command() -> str:
    """This Python command, briefly: "python -m sparkify.load", or the script's name."""
    argv = getattr(sys, "orig_argv", sys.argv)
    if "-m" in argv[1:-1]:
        return f"python -m {argv[argv.index('-m', 1) + 1]}"
    return Path(sys.argv[0]).name or "python"


def run(command: list[str]) -> int:
    """Execute the command (it replaces this process) holding the warehouse, for a local
    target; as it is for another DBT_TARGET. Returns only when it cannot start."""
    if os.environ.get("DBT_TARGET", "local") == "local":
        try:
            with exclusive(holder=shlex.join([Path(command[0]).name, *command[1:]]), inheritable=True):
                return _exec(command)
        except WarehouseInUse as error:
            print(f"error: {error}", file=sys.stderr)
            return IN_USE_EXIT_STATUS
    return _exec(command)


def _exec(command: list[str]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(command[0], command)
    except OSError as error:
        print(f"error: cannot run {command[0]}: {error.strerror}", file=sys.stderr)
        return 127


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.warehouse", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="action", required=True)
    run_parser = commands.add_parser(
        "run", help="run a command holding the warehouse; exit 2, in one line, when another process holds it"
    )
    run_parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("run needs a command: python -m sparkify.warehouse run -- <command...>")
    return run(command)


if __name__ == "__main__":
    sys.exit(main())
