"""The inference server as SageMaker and Kubernetes see it: a real subprocess on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pandas as pd
import pytest

from model_code.data import generate_transactions
from model_code.predictor import Predictor
from model_code.schema import FEATURE_NAMES

CSV, JSON = "text/csv", "application/json"
GOOD_ROW = "30.74,9,3,grocery,chip,pos_terminal,0,0,4.24,2.44,10796.5,1458,0,0,51.15,0"


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return generate_transactions(300, seed=77).loc[:, list(FEATURE_NAMES)].head(50)


def post(server: Any, body: bytes, content_type: str | None = CSV, accept: str | None = None) -> httpx.Response:
    headers = {}
    if content_type is not None:
        headers["content-type"] = content_type
    if accept is not None:
        headers["accept"] = accept
    return server.client.post("/invocations", content=body, headers=headers)


def test_health_routes(server: Any, trained: Any) -> None:
    version = Predictor.from_dir(trained.extracted).version
    for path in ("/ping", "/ready"):
        response = server.client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "model_version": version}
    assert server.client.get("/live").status_code == 200


def test_csv_and_json_match_in_process_predict(server: Any, trained: Any, features: pd.DataFrame) -> None:
    expected = Predictor.from_dir(trained.extracted).pipeline.predict_proba(features)[:, 1]

    by_csv = post(server, features.to_csv(index=False, header=False).encode())
    assert by_csv.status_code == 200 and by_csv.headers["content-type"].startswith(CSV)
    csv_probabilities = [float(line.split(",")[0]) for line in by_csv.text.splitlines()]
    np.testing.assert_allclose(csv_probabilities, expected, atol=1e-6)

    records = orjson.dumps({"records": features.to_dict(orient="records")})
    by_json = post(server, records, JSON)
    assert by_json.status_code == 200 and by_json.headers["content-type"].startswith(JSON)
    np.testing.assert_allclose([p["fraud_probability"] for p in by_json.json()["predictions"]], expected, rtol=1e-9)

    with_header = post(server, features.to_csv(index=False).encode())
    assert with_header.text == by_csv.text


def test_the_shipped_sample_scores(server: Any, sample_csv: bytes) -> None:
    response = post(server, sample_csv, CSV, JSON)
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == sample_csv.count(b"\n") - 1


@pytest.mark.parametrize(
    ("content_type", "accept", "answered"),
    [
        (CSV, None, CSV),
        (CSV, "*/*", CSV),
        (CSV, JSON, JSON),
        (JSON, CSV, CSV),
        ("text/csv; charset=utf-8", "application/json; q=0.8, text/csv; q=0.2", JSON),
    ],
)
def test_accept_is_honoured(server: Any, content_type: str, accept: str | None, answered: str) -> None:
    body = GOOD_ROW.encode() if content_type.startswith(CSV) else orjson.dumps({"instances": [[
        30.74, 9, 3, "grocery", "chip", "pos_terminal", 0, 0, 4.24, 2.44, 10796.5, 1458, 0, 0, 51.15, 0]]})  # fmt: skip
    response = post(server, body, content_type, accept)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(answered)


def _chunks(size: int) -> Iterator[bytes]:
    for _ in range(size // 8192 + 1):
        yield b"1" * 8192


BIG = (GOOD_ROW + "\n").encode() * 1000  # ~75 KB, over the 64 KB test limit


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status", "kind"),
    [
        (b'"open quote,1', CSV, None, 400, "malformed_csv"),
        (b"1,2,3", CSV, None, 400, "wrong_feature_count"),
        (GOOD_ROW.replace("30.74", "lots").encode(), CSV, None, 400, "invalid_type"),
        (GOOD_ROW.replace("30.74", "NaN").encode(), CSV, None, 400, "non_finite"),
        (GOOD_ROW.replace("30.74", "-inf").encode(), CSV, None, 400, "non_finite"),
        (b"", CSV, None, 400, "empty_body"),
        (b"  \n", JSON, None, 400, "empty_body"),
        (BIG, CSV, None, 413, "body_too_large"),
        (GOOD_ROW.encode(), "text/plain", None, 415, "unsupported_media_type"),
        (GOOD_ROW.encode(), None, None, 415, "unsupported_media_type"),
        (GOOD_ROW.encode(), "text/csv; charset=latin-1", None, 415, "unsupported_media_type"),
        (GOOD_ROW.encode(), CSV, "image/png", 406, "not_acceptable"),
        (b"\xc3\x28,\xa0\xa1", CSV, None, 400, "invalid_utf8"),
        (b'{"data": [1, 2]}', JSON, None, 400, "wrong_shape"),
        (b'{"instances": [[1, 2]]}', JSON, None, 400, "wrong_feature_count"),
        (b"[{]", JSON, None, 400, "malformed_json"),
    ],
)
def test_bad_input_gets_4xx_is_counted_and_the_server_keeps_serving(
    server: Any, body: bytes, content_type: str | None, accept: str | None, status: int, kind: str
) -> None:
    before = server.metric("inference_errors_total", kind=kind)
    response = post(server, body, content_type, accept)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(JSON)
    assert response.json()["error"]["kind"] == kind
    assert response.json()["error"]["message"]
    assert server.metric("inference_errors_total", kind=kind) == before + 1
    assert server.client.get("/ping").status_code == 200
    assert post(server, GOOD_ROW.encode()).status_code == 200


def test_chunked_body_over_the_limit_is_413(server: Any) -> None:
    response = server.client.post("/invocations", content=_chunks(200_000), headers={"content-type": CSV})
    assert response.status_code == 413
    assert server.client.get("/ping").status_code == 200


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/nowhere", 404), ("GET", "/invocations", 405)])
def test_unknown_routes_and_methods_answer_json(server: Any, method: str, path: str, status: int) -> None:
    response = server.client.request(method, path)
    assert response.status_code == status
    assert response.json()["error"]["kind"] in ("not_found", "method_not_allowed")


def test_metrics_count_requests_latency_and_model_version(server: Any, trained: Any) -> None:
    before = server.metric("inference_requests_total", path="/invocations", status="200")
    for _ in range(3):
        assert post(server, GOOD_ROW.encode()).status_code == 200
    assert server.metric("inference_requests_total", path="/invocations", status="200") == before + 3
    text = server.client.get("/metrics").text
    assert 'inference_request_duration_seconds_bucket{le="0.005",path="/invocations"}' in text
    version = Predictor.from_dir(trained.extracted).version
    assert server.metric("model_info", model_version=version) == 1.0
    assert server.metric("model_loaded") == 1.0


def test_metrics_add_up_across_workers(trained: Any, server_factory: Callable[..., Any]) -> None:
    multi = server_factory(trained.extracted, workers=2)
    for _ in range(12):  # a fresh connection each time, so both workers get some
        response = httpx.post(f"{multi.url}/invocations", content=GOOD_ROW.encode(), headers={"content-type": CSV})
        assert response.status_code == 200
    assert multi.metric("inference_requests_total", path="/invocations", status="200") == 12
    assert multi.metric("inference_rows_total") == 12
    assert multi.metric("model_loaded") == 1.0


@pytest.fixture(scope="module")
def broken_models(trained: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("broken")
    corrupt = base / "corrupt"
    shutil.copytree(trained.extracted, corrupt)
    (corrupt / "model.joblib").write_bytes(b"\x80\x04 definitely not a model")
    return {"missing": base / "missing", "corrupt": corrupt}


@pytest.mark.parametrize("case", ["missing", "corrupt"])
def test_a_bad_model_fails_ping_not_the_process(
    broken_models: dict[str, Path], server_factory: Callable[..., Any], case: str
) -> None:
    broken = server_factory(broken_models[case])
    for path in ("/ping", "/ready"):
        response = broken.client.get(path)
        assert response.status_code == 503
        assert "cannot load model" in response.json()["reason"]
    assert broken.client.get("/live").status_code == 200
    response = post(broken, GOOD_ROW.encode())
    assert response.status_code == 503
    assert response.json()["error"]["kind"] == "model_unavailable"
    assert broken.metric("model_loaded") == 0.0
    assert broken.process.poll() is None
    assert "MODEL NOT LOADED" in broken.log.read_text()


def test_batch_transform_execution_parameters(server: Any) -> None:
    response = server.client.get("/execution-parameters")
    assert response.status_code == 200
    assert response.json()["BatchStrategy"] == "MULTI_RECORD"
    assert response.json()["MaxPayloadInMB"] >= 1
