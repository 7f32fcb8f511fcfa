"""What every test area needs to know about the project: where it is, its stacks, a moto server."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from moto.server import ThreadedMotoServer

PROJECT_DIR = Path(__file__).resolve().parents[1]
STACKS = ("dev", "staging", "prod")


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server (real HTTP) on a free port of 127.0.0.1; yields its URL, stops it afterwards."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call is noise here
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
