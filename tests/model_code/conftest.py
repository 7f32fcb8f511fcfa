"""Fixtures for the model_code tests: one small trained model per session, real server subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SMALL_ROWS = 4000
MAX_BODY_BYTES = 64 * 1024
"""The body limit the test server runs with, so 413 is cheap to provoke."""


@dataclass(frozen=True)
class TrainedModel:
    out: Path
    extracted: Path
    tarball: Path
    evaluation: Path


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    client: httpx.Client

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample in /metrics (0 when absent)."""
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in self.client.get("/metrics").text.splitlines():
            if line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            metric, _, label_text = key.partition("{")
            if metric == name and ",".join(sorted(label_text.rstrip("}").split(","))) == want:
                return float(value)
        return 0.0


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    from model_code.__main__ import train_local

    out = tmp_path_factory.mktemp("model")
    train_local(["--out", str(out), "--rows", str(SMALL_ROWS), "--format", "csv", "--bootstrap", "20"])
    return TrainedModel(out, out / "extracted", out / "model.tar.gz", out / "evaluation.json")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model_dir: Path, log: Path, workers: int = 1, **env: str) -> RunningServer:
    port = free_port()
    environment = {
        **os.environ,
        "MODEL_DIR": str(model_dir),
        "MODEL_SERVER_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "model_code", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=environment, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=30)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if client.get("/live").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"server not live after 90s:\n{log.read_text()}")
        time.sleep(0.2)
    return RunningServer(url, process, log, client)


def stop_server(server: RunningServer) -> None:
    server.client.close()
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RunningServer]]:
    started: list[RunningServer] = []

    def factory(model_dir: Path, workers: int = 1, **env: str) -> RunningServer:
        log = tmp_path_factory.mktemp("server") / "server.log"
        server = start_server(model_dir, log, workers, **env)
        started.append(server)
        return server

    yield factory
    for server in started:
        stop_server(server)


@pytest.fixture(scope="session")
def server(trained: TrainedModel, server_factory: Callable[..., RunningServer]) -> RunningServer:
    """One worker serving the session's model (1 worker: /metrics then counts exactly what we sent)."""
    return server_factory(trained.extracted)


@pytest.fixture(scope="session")
def sample_csv() -> bytes:
    return (ROOT / "model_code" / "sample.csv").read_bytes()
