"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe):
no WebDriver, no websocket client, no port. Chromium reads commands on fd 3 and writes
replies and events on fd 4, each a JSON message ended by a NUL byte."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import subprocess
import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    "--remote-debugging-pipe",
]  # fmt: skip


class Chromium:
    """One browser with one page; every console message, exception and request is recorded."""

    def __init__(self, profile_dir: Path, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.events: list[dict] = []
        self._next_id = 0
        self._buffer = b""
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        # Park the child's ends above 4, so that moving them onto 3 and 4 clobbers neither.
        child_read = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
        child_write = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
        os.close(to_browser_read)
        os.close(from_browser_write)

        def onto_pipe_fds() -> None:
            os.dup2(child_read, 3)
            os.dup2(child_write, 4)

        self.log = profile_dir / "chromium.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
                stdout=log, stderr=log, pass_fds=(3, 4), preexec_fn=onto_pipe_fds,
            )  # fmt: skip
        os.close(child_read)
        os.close(child_write)
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=self.session)
        # No network for the page: what it needs must be in the file.
        self.send(
            "Network.emulateNetworkConditions", session=self.session,
            offline=True, latency=0, downloadThroughput=-1, uploadThroughput=-1,
        )  # fmt: skip

    def _message(self) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], self.timeout)
            chunk = os.read(self._from_browser, 1 << 20) if ready else b""
            if not chunk:
                raise RuntimeError(f"Chromium sent nothing for {self.timeout} s or exited; see {self.log}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            event = self._message()
            self.events.append(event)
            if event.get("method") == method:
                return event
        raise RuntimeError(f"no {method} within {self.timeout} s")

    def open(self, url: str) -> None:
        self.send("Page.navigate", session=self.session, url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression, awaited when it is a promise."""
        result = self.send(
            "Runtime.evaluate", session=self.session, expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, width: int = 1280) -> None:
        """The whole page, not only the window, as a PNG."""
        self._viewport(width, 800)  # first, so that the page's height is measured at this width
        self._viewport(width, self.evaluate("document.documentElement.scrollHeight"))
        data = self.send("Page.captureScreenshot", session=self.session, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def _viewport(self, width: int, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride", session=self.session,
            width=width, height=height, deviceScaleFactor=1, mobile=False,
        )  # fmt: skip

    def console_errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and browser log errors, as text."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
                found.append(" ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description", details["text"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(params["entry"]["text"])
        return found

    def requested_urls(self) -> list[str]:
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        # The browser may be gone already; then there is nothing to close.
        with contextlib.suppress(RuntimeError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
