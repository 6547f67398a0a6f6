"""Run a server in the foreground until Ctrl-C, and stop it without a traceback.

    python -m sparkify.serve -- .venv/bin/dbt docs serve --port 8081
    python -m sparkify.serve --stop-signal SIGINT -- airflow standalone

Ctrl-C sends SIGINT to every process of the terminal's foreground group: `dbt docs serve`
answers it with a KeyboardInterrupt traceback, which make then reports as an error, and each
of Airflow's components answers on its own. So the server runs in a session of its own, out
of the terminal's reach, and Ctrl-C reaches only this process, which sends the server alone
its stop signal, waits for it, and exits 0: stopping a server is not a failure. The stop
signal is SIGTERM, which ends dbt's server quietly, or SIGINT for `airflow standalone`, which
stops its components on SIGINT but, on SIGTERM, would end alone and leave them running. A
server that ends by itself passes its exit status on.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

# How long a server has to stop after SIGTERM before it is killed.
STOP_TIMEOUT_SECONDS = 30


def serve(command: list[str], stop_signal: signal.Signals) -> int:
    server = subprocess.Popen(command, start_new_session=True)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.send_signal(stop_signal)
        try:
            server.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        print(f"\nStopped {command[0].rsplit('/', 1)[-1]}.", file=sys.stderr)
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--stop-signal", type=signal.Signals.__getitem__, default=signal.SIGTERM,
                        help="what the server is sent on Ctrl-C (default SIGTERM)")  # fmt: skip
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the server's command, after --")
    args = parser.parse_args(argv)
    command = args.command
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        parser.error("give the server's command after --")
    # SIGTERM (from a supervisor, or `kill`) stops the server as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return serve(command, args.stop_signal)


if __name__ == "__main__":
    sys.exit(main())
