"""Names shared by the platform's tests and their conftest (imported by module name, so
that no test imports ``conftest``)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PARK_FILE = REPO / "scenarios" / "park" / "xushuguan-park.yaml"
PARK = "xushuguan-park"


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A loopback HTTP server taking the alerts' webhook POSTs (the alerts and the
    readings-hook tests); the first ``fail_first`` are answered 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                code = 500 if len(outer.answers) < outer.fail_first else 200
                outer.answers.append(code)
                if code == 200:
                    outer.received.append(json.loads(body))
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def peaks(self) -> list[dict[str, Any]]:
        """The messages received about a peak alert."""
        return [m for m in list(self.received) if m["alert"]["kind"] == "peak"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
