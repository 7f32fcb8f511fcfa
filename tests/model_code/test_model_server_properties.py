"""Property-based tests against the real server subprocess: valid rows always score, consistently across
content types; anything else gets a JSON 4xx, never a 5xx, and never stops the server."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model_code.schema import FEATURE_NAMES, FEATURES, FeatureKind

CSV, JSON = "text/csv", "application/json"
KNOWN_KINDS = {
    "invalid_utf8", "malformed_csv", "malformed_json", "wrong_shape", "wrong_feature_count", "wrong_fields",
    "bad_header", "invalid_type", "missing_value", "non_finite", "out_of_range", "no_rows", "empty_body",
    "body_too_large",
}  # fmt: skip
PROPERTY_SETTINGS = settings(
    max_examples=60,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
category_text = st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=12)


def value_strategy(feature: Any) -> st.SearchStrategy[Any]:
    if feature.kind is FeatureKind.CATEGORICAL:
        return st.one_of(st.sampled_from(feature.categories), category_text)
    if feature.kind is FeatureKind.FLAG:
        return st.sampled_from([0, 1])
    upper = feature.maximum if math.isfinite(feature.maximum) else 1e6
    if feature.name in ("hour_of_day", "day_of_week"):
        return st.integers(int(feature.minimum), int(upper))
    return st.floats(feature.minimum, upper, allow_nan=False, allow_infinity=False)


valid_rows = st.lists(st.tuples(*(value_strategy(f) for f in FEATURES)), min_size=1, max_size=20)


def to_csv(rows: list[tuple[Any, ...]], header: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(FEATURE_NAMES)
    writer.writerows([[repr(v) if isinstance(v, float) else v for v in row] for row in rows])
    return out.getvalue().encode()


def assert_refused_cleanly(server: Any, response: Any) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["kind"] in KNOWN_KINDS


@PROPERTY_SETTINGS
@given(rows=valid_rows, header=st.booleans())
def test_valid_rows_score_the_same_through_csv_and_json(server: Any, rows: list[tuple[Any, ...]], header: bool) -> None:
    by_csv = server.client.post("/invocations", content=to_csv(rows, header), headers={"content-type": CSV})
    assert by_csv.status_code == 200, by_csv.text
    csv_lines = by_csv.text.splitlines()
    assert len(csv_lines) == len(rows)

    doc = {"records": [dict(zip(FEATURE_NAMES, row, strict=True)) for row in rows]}
    by_json = server.client.post("/invocations", content=orjson.dumps(doc), headers={"content-type": JSON})
    assert by_json.status_code == 200, by_json.text
    predictions = by_json.json()["predictions"]
    for line, prediction in zip(csv_lines, predictions, strict=True):
        probability, label = line.split(",")
        assert 0.0 <= prediction["fraud_probability"] <= 1.0
        assert abs(float(probability) - prediction["fraud_probability"]) <= 5e-7
        assert bool(int(label)) is prediction["is_fraud"]


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=2000), content_type=st.sampled_from([CSV, JSON]))
def test_arbitrary_bytes_never_cause_a_5xx(server: Any, body: bytes, content_type: str) -> None:
    response = server.client.post("/invocations", content=body, headers={"content-type": content_type})
    if response.status_code != 200:
        assert_refused_cleanly(server, response)
    assert server.client.get("/ping").status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@PROPERTY_SETTINGS
@given(doc=json_values)
def test_json_of_any_shape_is_scored_or_refused_with_a_reason(server: Any, doc: Any) -> None:
    try:
        body = orjson.dumps(doc)
    except TypeError:  # integers beyond 64 bits: send their text anyway
        body = str(doc).encode()
    response = server.client.post("/invocations", content=body, headers={"content-type": JSON})
    if response.status_code != 200:
        assert_refused_cleanly(server, response)


@PROPERTY_SETTINGS
@given(
    rows=valid_rows,
    position=st.integers(0, len(FEATURE_NAMES) - 1),
    junk=st.one_of(st.text(max_size=10), st.sampled_from(["nan", "inf", "-1e999", "", "1e400", "0x10", "1,5"])),
)
def test_one_corrupted_cell_is_refused_or_scored_never_crashes(
    server: Any, rows: list[tuple[Any, ...]], position: int, junk: str
) -> None:
    corrupted = [list(rows[0]), *map(list, rows[1:])]
    corrupted[0][position] = junk
    response = server.client.post("/invocations", content=to_csv(corrupted, False), headers={"content-type": CSV})
    if response.status_code == 200:  # junk that is still a valid value (e.g. "7" or any category text)
        assert len(response.text.splitlines()) == len(rows)
    else:
        assert_refused_cleanly(server, response)
    assert server.client.get("/ping").status_code == 200
