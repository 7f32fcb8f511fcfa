"""The benchmark's pieces stay honest: the load generator only hits the loopback and counts real 200s, and
the Flask baseline serves the same model with the same answers (so the comparison is like for like)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
GOOD_ROW = b"30.74,9,3,grocery,chip,pos_terminal,0,0,4.24,2.44,10796.5,1458,0,0,51.15,0\n"


@pytest.fixture(scope="module")
def bench_modules() -> Iterator[Any]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("_serve_load")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_load_generator_refuses_anything_but_loopback(bench_modules: Any) -> None:
    with pytest.raises(ValueError, match="loopback"):
        bench_modules.run_load("10.0.0.1", 80, b"", 1, 0.1)


def test_load_generator_measures_a_real_server(bench_modules: Any, server: Any) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    request = bench_modules.build_request("127.0.0.1", port, "/invocations", GOOD_ROW, "text/csv", "text/csv")
    result = bench_modules.run_load("127.0.0.1", port, request, concurrency=2, duration=0.3, max_requests=50)
    assert 0 < len(result.latencies) <= 50 and result.errors == 0
    bad = bench_modules.build_request("127.0.0.1", port, "/invocations", b"x", "text/csv", "text/csv")
    assert bench_modules.run_load("127.0.0.1", port, bad, 1, 0.3, max_requests=5).errors == 5


def test_flask_baseline_gives_the_same_probabilities(trained: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from model_code.predictor import CSV, Predictor

    monkeypatch.setenv("MODEL_DIR", str(trained.extracted))
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("_serve_flask", None)
    flask_app = importlib.import_module("_serve_flask").app
    body = GOOD_ROW * 3
    response = flask_app.test_client().post("/invocations", data=body, content_type=CSV)
    assert response.status_code == 200
    baseline = [float(line.split(",")[0]) for line in response.get_data(as_text=True).splitlines()]
    ours = Predictor.from_dir(trained.extracted).predict_body(body, CSV).probabilities
    np.testing.assert_allclose(baseline, ours, rtol=1e-9)
