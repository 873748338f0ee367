"""gunicorn started as README's Deploying section starts it (the venv's ``gunicorn -c
gunicorn.conf.py`` in a folder holding the config), on a free loopback port: the server
of the deployment tests and of the browser tests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
READY_SECONDS = 20  # the master preloads the app and jieba's dictionary (about 2 s)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Answer:
    """One HTTP response, read."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes


class Server:
    """A gunicorn started in ``home`` as README's Deploying section starts it."""

    def __init__(self, home: Path, proxies: int, settings: Mapping[str, str] | None = None) -> None:
        """:param settings: more of the app's environment (REPLY_ARCHIVE_DIR…)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / f"gunicorn-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPLY_ARCHIVE_")}  # none of the caller's
        env.update(REPLY_ARCHIVE_HOME=str(home), REPLY_ARCHIVE_PROXIES=str(proxies),
                   REPLY_ARCHIVE_BIND=f"127.0.0.1:{self.port}", **(settings or {}))
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [BIN / "gunicorn", "-c", "gunicorn.conf.py"], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        """Send one GET on a connection of its own and read the answer."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            conn.close()

    def wait_healthy(self, *, stale: bool = False) -> None:
        """Wait until /healthz says ok.

        :param stale: an index the tests built from records, not from the archive's
            files as ``reply-archive index`` does, counts too (it is served all the same).
        """
        wanted = ("ok", "stale") if stale else ("ok",)
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            try:
                answer = self.get("/healthz")
                if answer.status in (200, 503) and json.loads(answer.body).get("status") in wanted:
                    return
            except (OSError, http.client.HTTPException):
                pass  # not listening yet
            time.sleep(0.1)
        raise AssertionError(f"gunicorn was not healthy within {READY_SECONDS} s:\n{self.output()}")

    def stop(self) -> int:
        """Stop it as systemd does (SIGTERM); return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")
