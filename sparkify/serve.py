"""Run servers in the foreground until Ctrl-C, and stop them without a traceback.

    python -m sparkify.serve -- .venv/bin/dbt docs serve --port 8081

Ctrl-C sends SIGINT to every process of the terminal's foreground group: `dbt docs serve`
answers it with a KeyboardInterrupt traceback, which make then reports as an error, and each
of Airflow's components answers on its own. So each server runs in a session of its own, out
of the terminal's reach, and Ctrl-C reaches only this process, which sends every server
SIGTERM, waits for them, and exits 0: stopping a server is not a failure. A server that ends
by itself stops the others, and passes its exit status on.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time

# How long the servers have to stop after SIGTERM before they are killed.
STOP_TIMEOUT_SECONDS = 30
# How often the servers are checked for one that ended by itself.
POLL_SECONDS = 0.2


def free_port() -> int:
    """A port free on 127.0.0.1, for a server of one's own beside others (tests, benchmarks)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(servers: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to every server still running, at once, then wait for all of them."""
    running = {name: server for name, server in servers.items() if server.poll() is None}
    for server in running.values():
        server.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for server in running.values():
        try:
            server.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def serve(commands: dict[str, list[str]]) -> int:
    """Run each named command as a server until Ctrl-C, or until one of them ends."""
    # SIGTERM (from a supervisor, or `kill`) stops the servers as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    servers: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            try:
                servers[name] = subprocess.Popen(command, start_new_session=True)
            except OSError:
                stop(servers)  # those started run in sessions of their own, out of Ctrl-C's reach
                raise
        while True:
            ended = [(name, server.returncode) for name, server in servers.items() if server.poll() is not None]
            if ended:
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        stop(servers)
        print(f"\nStopped {', '.join(servers)}.", file=sys.stderr)
        return 0
    name, status = ended[0]
    if len(servers) > 1:
        others = ", ".join(other for other in servers if other != name)
        print(f"{name} ended (exit status {status}): stopping {others}.", file=sys.stderr)
    stop(servers)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.serve", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the server's command, after --")
    command = parser.parse_args(argv).command
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        parser.error("give the server's command after --")
    return serve({command[0].rsplit("/", 1)[-1]: command})


if __name__ == "__main__":
    sys.exit(main())
