"""Names shared by the platform's tests and their conftest (imported by module name, so
that no test imports ``conftest``)."""

from __future__ import annotations

import socket
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PARK_FILE = REPO / "scenarios" / "park" / "xushuguan-park.yaml"
PARK = "xushuguan-park"


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
