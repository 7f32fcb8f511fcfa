"""Decoding, validation and the compiled predict path, in process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

from model_code.data import generate_transactions
from model_code.predictor import CSV, JSON, InputError, ModelLoadError, Predictor, decode_csv, decode_json
from model_code.schema import FEATURE_NAMES
from model_code.server import negotiate


@pytest.fixture(scope="module")
def predictor(trained: Any) -> Predictor:
    return Predictor.from_dir(trained.extracted)


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return generate_transactions(400, seed=99).loc[:, list(FEATURE_NAMES)]


def test_fast_path_equals_the_sklearn_pipeline(predictor: Predictor, features: pd.DataFrame) -> None:
    body = features.to_csv(index=False, header=False).encode()
    fast = predictor.predict_body(body, CSV).probabilities
    expected = predictor.pipeline.predict_proba(features)[:, 1]
    np.testing.assert_allclose(fast, expected, rtol=1e-9, atol=1e-12)


def test_csv_header_may_come_in_any_order(predictor: Predictor, features: pd.DataFrame) -> None:
    head = features.head(5)
    shuffled = head.loc[:, list(reversed(FEATURE_NAMES))].to_csv(index=False).encode()
    plain = head.to_csv(index=False, header=False).encode()
    np.testing.assert_array_equal(
        predictor.predict_body(shuffled, CSV).probabilities, predictor.predict_body(plain, CSV).probabilities
    )


@pytest.mark.parametrize("shape", ["list", "records", "instances-lists", "instances-objects"])
def test_json_shapes_agree_with_csv(predictor: Predictor, features: pd.DataFrame, shape: str) -> None:
    head = features.head(7)
    records = head.to_dict(orient="records")
    doc: Any = {
        "list": records,
        "records": {"records": records},
        "instances-lists": {"instances": head.to_numpy().tolist()},
        "instances-objects": {"instances": records},
    }[shape]
    from_json = predictor.predict_body(orjson.dumps(doc), JSON).probabilities
    from_csv = predictor.predict_body(head.to_csv(index=False).encode(), CSV).probabilities
    np.testing.assert_allclose(from_json, from_csv, rtol=1e-12)


def test_unknown_category_is_scored_as_missing(predictor: Predictor, features: pd.DataFrame) -> None:
    row = features.head(1).copy()
    row["merchant_category"] = "space_tourism"
    expected = predictor.pipeline.predict_proba(row)[:, 1]
    got = predictor.predict_body(row.to_csv(index=False).encode(), CSV).probabilities
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_encodings(predictor: Predictor, features: pd.DataFrame) -> None:
    prediction = predictor.predict_body(features.head(2).to_csv(index=False).encode(), CSV)
    lines = predictor.encode(prediction, CSV).decode().splitlines()
    assert len(lines) == 2 and all(line.count(",") == 1 for line in lines)
    doc = json.loads(predictor.encode(prediction, JSON))
    assert doc["model_version"] == predictor.version
    assert [p["is_fraud"] for p in doc["predictions"]] == [bool(v) for v in prediction.labels]


GOOD = "30.74,9,3,grocery,chip,pos_terminal,0,0,4.24,2.44,10796.5,1458,0,0,51.15,0"


def _replace(field: int, value: str) -> bytes:
    cells = GOOD.split(",")
    cells[field] = value
    return ",".join(cells).encode()


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"\xff\xfe1,2", "invalid_utf8"),
        (b'"unterminated,1,2', "malformed_csv"),
        (b"1,2,3", "wrong_feature_count"),
        (GOOD.encode() + b",extra", "wrong_feature_count"),
        (_replace(0, "abc"), "invalid_type"),
        (_replace(0, ""), "missing_value"),
        (_replace(0, "nan"), "non_finite"),
        (_replace(0, "inf"), "non_finite"),
        (_replace(0, "-5"), "out_of_range"),
        (_replace(1, "24"), "out_of_range"),
        (_replace(6, "2"), "out_of_range"),
        (",".join(FEATURE_NAMES[:-1]).encode() + b",bogus\n" + GOOD.encode(), "bad_header"),
        (",".join(FEATURE_NAMES).encode() + b"\n", "no_rows"),
    ],
)
def test_bad_csv_is_refused_with_its_kind(predictor: Predictor, body: bytes, kind: str) -> None:
    with pytest.raises(InputError) as caught:
        predictor.predict_body(body, CSV)
    assert caught.value.kind == kind
    assert caught.value.status == 400


RECORD = dict(zip(FEATURE_NAMES, decode_csv(GOOD.encode())[0], strict=True))
NUMERIC_RECORD = {
    k: (v if k in ("merchant_category", "channel", "device_type") else float(v)) for k, v in RECORD.items()
}


@pytest.mark.parametrize(
    ("doc", "kind"),
    [
        (b"{not json", "malformed_json"),
        (b"\xff[]", "invalid_utf8"),
        (b'{"rows": []}', "wrong_shape"),
        (b"42", "wrong_shape"),
        (b"[1, 2]", "wrong_shape"),
        (b"[]", "no_rows"),
        (orjson.dumps([{**NUMERIC_RECORD, "extra": 1}]), "wrong_fields"),
        (orjson.dumps([{k: v for k, v in NUMERIC_RECORD.items() if k != "amount"}]), "wrong_fields"),
        (orjson.dumps({"instances": [[1, 2]]}), "wrong_feature_count"),
        (orjson.dumps([{**NUMERIC_RECORD, "amount": "12.5"}]), "invalid_type"),
        (orjson.dumps([{**NUMERIC_RECORD, "amount": None}]), "missing_value"),
        (orjson.dumps([{**NUMERIC_RECORD, "channel": 3}]), "invalid_type"),
        (orjson.dumps([{**NUMERIC_RECORD, "amount": [1]}]), "invalid_type"),
        (orjson.dumps([{**NUMERIC_RECORD, "amount": 0.5}]).replace(b"0.5", b"1e999"), "malformed_json"),
        (orjson.dumps([{**NUMERIC_RECORD, "amount": 0.5}]).replace(b"0.5", b"NaN"), "malformed_json"),
        (orjson.dumps([{**NUMERIC_RECORD, "amount": 0.5}]).replace(b"0.5", b"1e300"), "out_of_range"),
    ],
)
def test_bad_json_is_refused_with_its_kind(predictor: Predictor, doc: bytes, kind: str) -> None:
    with pytest.raises(InputError) as caught:
        predictor.predict_body(doc, JSON)
    assert caught.value.kind == kind


def test_json_numbers_and_booleans_for_flags_are_accepted(predictor: Predictor) -> None:
    doc = orjson.dumps({"records": [{**NUMERIC_RECORD, "is_new_device": True}]})
    assert len(predictor.predict_body(doc, JSON).probabilities) == 1


@pytest.mark.parametrize(
    ("content_type", "accept", "expected"),
    [
        (CSV, "", CSV),
        (JSON, "*/*", JSON),
        (CSV, "application/json", JSON),
        (JSON, "text/csv;q=0.9, application/json;q=0.1", CSV),
        (CSV, "image/png, application/*;q=0.5", JSON),
        (JSON, "text/*", CSV),
    ],
)
def test_accept_negotiation(content_type: str, accept: str, expected: str) -> None:
    assert negotiate(content_type, accept) == expected


@pytest.mark.parametrize("accept", ["image/png", "text/html", "application/json;q=0"])
def test_unanswerable_accept_is_406(accept: str) -> None:
    with pytest.raises(InputError) as caught:
        negotiate(CSV, accept)
    assert caught.value.status == 406


def test_missing_and_corrupt_models_raise_model_load_error(trained: Any, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not found"):
        Predictor.from_dir(tmp_path / "nothing")
    corrupt = tmp_path / "corrupt"
    shutil.copytree(trained.extracted, corrupt)
    (corrupt / "model.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ModelLoadError, match="cannot load model"):
        Predictor.from_dir(corrupt)


def test_decoders_return_rows_in_feature_order() -> None:
    rows = decode_csv(b"\n" + GOOD.encode() + b"\n\n")
    assert len(rows) == 1 and len(rows[0]) == len(FEATURE_NAMES)
    assert decode_json(orjson.dumps({"instances": [[0] * len(FEATURE_NAMES)]})) == [[0] * len(FEATURE_NAMES)]


def test_falls_back_to_public_predict_when_trees_cannot_be_compiled(
    trained: Any, features: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from model_code._trees import CompiledTrees

    def refuse(self: Any, clf: Any) -> None:
        raise ValueError("pretend scikit-learn changed its tree arrays")

    monkeypatch.setattr(CompiledTrees, "__init__", refuse)
    fallback = Predictor.from_dir(trained.extracted)
    assert fallback._trees is None
    body = features.to_csv(index=False).encode()
    expected = fallback.pipeline.predict_proba(features)[:, 1]
    np.testing.assert_allclose(fallback.predict_body(body, CSV).probabilities, expected, rtol=1e-9)


def test_compiled_trees_that_disagree_are_dropped(trained: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from model_code._trees import CompiledTrees

    monkeypatch.setattr(CompiledTrees, "predict_positive", lambda self, x: np.full(len(x), 0.5))
    assert Predictor.from_dir(trained.extracted)._trees is None
