"""`make forget`: erase one user from the warehouse, on a data subject's request.

    python -m sparkify.forget --user-id ID --reason TEXT [--target T]

dbt's forget_user operation deletes every row about the user, from the raw tables to the
marts, in one transaction, and records the erasure in raw.erasures; later loads drop the
user's events (docs/privacy.md). Erasing a user who is not there changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

import yaml

from sparkify import load

# userId is an integer in the marts.
USER_ID_RANGE = (-(2**31), 2**31 - 1)
# raw.erasures.reason is varchar(1024), counted in bytes on Redshift.
REASON_BYTES = 1024


class Erasure:
    """The erasure's outcome, as the forget_user operation reports it (macros/report_event.sql)."""

    def __init__(self) -> None:
        self.outcome: dict | None = None

    def __call__(self, message) -> None:
        if message.info.name == "JinjaLogDebug" and message.data.msg.startswith(load.EVENT_PREFIX):
            event = json.loads(message.data.msg[len(load.EVENT_PREFIX) :])
            if event["event"] == "erasure":
                self.outcome = event


def user_id(value: str | None) -> str:
    """A user id as the warehouse writes it: a whole number, without the leading zeros it need not have."""
    text = (value or "").strip()
    if not re.fullmatch(r"-?\d+", text) or not USER_ID_RANGE[0] <= int(text) <= USER_ID_RANGE[1]:
        raise load.CannotStart(f"USER_ID must be a user's id, a whole number such as 15; got {value!r}")
    return str(int(text))


def reason(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise load.CannotStart('REASON is required: say why, for the record, with no name in it (REASON="request 123")')
    if len(text.encode()) > REASON_BYTES:
        raise load.CannotStart(f"REASON is {len(text.encode()):,} bytes; at most {REASON_BYTES:,}")
    return text


def rows_of(count: int) -> str:
    return f"{count:>9,} {'row' if count == 1 else 'rows'}"


def report(outcome: dict) -> tuple[int, list[str]]:
    """The exit status and the lines to print for the operation's outcome."""
    who = f"user {outcome['user_id']}"
    if outcome["status"] == "not_found":
        return 1, [f"error: no {who} in the warehouse: nothing erased, nothing changed"]
    if outcome["status"] == "already_erased":
        erased_at = outcome["erased_at"]
        return 0, [f"User {outcome['user_id']} was erased at {erased_at} UTC: nothing left to erase, nothing changed"]
    counts = outcome["tables"]
    width = max(map(len, counts))
    return 0, [
        f"Erased {who} at {outcome['erased_at']} UTC, recorded in raw.erasures:",
        *(f"  {table:<{width}} {rows_of(count)}" for table, count in counts.items()),
        f"  {'in all':<{width}} {rows_of(sum(counts.values()))}",
        "The source files may still hold the user's events: later loads drop them, and their owner must delete "
        "them from the files (docs/privacy.md).",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.forget", description=__doc__.splitlines()[0])
    parser.add_argument("--user-id", default=os.environ.get("SPARKIFY_ERASE_USER_ID"), help="the user to erase")
    parser.add_argument("--reason", default=os.environ.get("SPARKIFY_ERASURE_REASON"),
                        help="why, for raw.erasures: a request number, say; no name")  # fmt: skip
    parser.add_argument("--target", help="dbt target (default: the profile's, local unless DBT_TARGET says)")
    args = parser.parse_args(argv)
    try:
        arguments = {"user_id": user_id(args.user_id), "reason": reason(args.reason)}
        request = load.Request(location="", max_rejects=0, full_refresh=False, target=args.target)
        with load.warehouse_held(request):
            from dbt.cli.main import dbtRunner  # imported late: it takes seconds

            erasure = Erasure()
            operation = ["--quiet", "--no-write-json", "run-operation", "forget_user", "--args",
                         yaml.safe_dump(arguments, default_flow_style=True, width=1_000_000, allow_unicode=True),
                         *request.target_args]  # fmt: skip
            result = dbtRunner(callbacks=[erasure]).invoke(operation)
    except load.CannotStart as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_status
    if not result.success or erasure.outcome is None:
        if result.exception is not None:
            print(f"error: {result.exception}", file=sys.stderr)
        print("error: the erasure failed and was rolled back: nothing changed", file=sys.stderr)
        return 1
    status, lines = report(erasure.outcome)
    print("\n".join(lines), file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
