"""Request decoding, validation and the fast predict path shared by the server and the benchmark.

The fitted pipeline is ordinal encoding + passthrough + HistGradientBoosting. Calling it with a pandas
DataFrame costs far more than the trees themselves for a handful of rows, so `Predictor` compiles it once:
one dict lookup per categorical value (the encoder's own categories, unknown -> NaN as the encoder does) and a
numeric matrix in the transformer's output order, evaluated by `_trees.CompiledTrees` (all trees at once in
numpy). At load time it checks on probe rows that this gives the same probabilities as
`pipeline.predict_proba`: if only the compiled trees differ it falls back to the classifier's own
`predict_proba`; if the pipeline does not have the expected shape it refuses to load (so `/ping` fails).
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from model_code.schema import (
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    FEATURES,
    FEATURES_BY_NAME,
    NUMERIC_FEATURES,
    FeatureKind,
)

if TYPE_CHECKING:  # scikit-learn is imported when a model loads, so `serve`'s parent process stays light
    from sklearn.pipeline import Pipeline

    from model_code._trees import CompiledTrees

log = logging.getLogger(__name__)

CSV = "text/csv"
JSON = "application/json"
SUPPORTED_TYPES = (CSV, JSON)
N_FEATURES = len(FEATURE_NAMES)
_NUM_POS = [FEATURE_NAMES.index(n) for n in NUMERIC_FEATURES]
_CAT_POS = [FEATURE_NAMES.index(n) for n in CATEGORICAL_FEATURES]
_LOWER = np.array([FEATURES_BY_NAME[n].minimum for n in NUMERIC_FEATURES])
_UPPER = np.array([FEATURES_BY_NAME[n].maximum for n in NUMERIC_FEATURES])
_FLAG_COLS = [i for i, n in enumerate(NUMERIC_FEATURES) if FEATURES_BY_NAME[n].kind is FeatureKind.FLAG]
_HEADER_NAMES = frozenset(FEATURE_NAMES)
_NUMBER_TYPES = frozenset({int, float})
_FLAG_TYPES = frozenset({int, float, bool})
_CAT_TYPES = frozenset({str, type(None)})


class InputError(Exception):
    """A request the server refuses; `kind` is the label counted in /metrics."""

    def __init__(
        self, kind: str, message: str, status: int = 400, row: int | None = None, column: str | None = None
    ) -> None:
        super().__init__(message)
        self.kind, self.message, self.status, self.row, self.column = kind, message, status, row, column

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.row is not None:
            error["row"] = self.row
        if self.column is not None:
            error["column"] = self.column
        return {"error": error}


class ModelLoadError(RuntimeError):
    """The model dir is missing, unreadable or holds a model the fast path cannot serve."""


# ---------------------------------------------------------------------------------------------- decoding


def decode_csv(body: bytes) -> list[list[str]]:
    """Rows of feature strings in `FEATURE_NAMES` order; a header row (any order) is used and dropped."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("invalid_utf8", f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text), strict=True) if r]
    except csv.Error as exc:
        raise InputError("malformed_csv", f"CSV cannot be parsed: {exc}") from None
    if rows and sum(c.strip() in _HEADER_NAMES for c in rows[0]) * 2 >= len(rows[0]):
        header = [c.strip() for c in rows.pop(0)]
        if header != list(FEATURE_NAMES):
            missing = [n for n in FEATURE_NAMES if n not in header]
            unknown = [n for n in header if n not in _HEADER_NAMES]
            if missing or unknown or len(header) != N_FEATURES:
                raise InputError(
                    "bad_header",
                    f"CSV header must name each feature once; missing {missing}, unknown {unknown}",
                )
            order = [header.index(n) for n in FEATURE_NAMES]
            rows = [[r[i] for i in order] if len(r) == N_FEATURES else r for r in rows]
    if not rows:
        raise InputError("no_rows", "CSV holds no data rows")
    for i, r in enumerate(rows):
        if len(r) != N_FEATURES:
            raise InputError("wrong_feature_count", f"row {i} has {len(r)} fields, expected {N_FEATURES}", row=i)
    return rows


def decode_json(body: bytes) -> list[list[Any]]:
    """Rows from `[{...}]`, `{"records": [{...}]}` or `{"instances": [[...]] | [{...}]}`."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as uexc:
            raise InputError("invalid_utf8", f"body is not valid UTF-8 (byte {uexc.start})") from None
        raise InputError("malformed_json", f"JSON cannot be parsed: {exc}") from None
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict) and len(doc) == 1 and isinstance(doc.get("records", doc.get("instances")), list):
        items = doc.get("records", doc.get("instances"))
    else:
        raise InputError("wrong_shape", 'JSON must be [{...}], {"records": [{...}]} or {"instances": [[...]]}')
    if not items:
        raise InputError("no_rows", "JSON holds no rows")
    rows: list[list[Any]] = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            if len(item) != N_FEATURES or item.keys() != _HEADER_NAMES:
                missing = [n for n in FEATURE_NAMES if n not in item]
                unknown = sorted(str(k) for k in item if k not in _HEADER_NAMES)
                raise InputError("wrong_fields", f"row {i}: missing fields {missing}, unknown fields {unknown}", row=i)
            rows.append([item[n] for n in FEATURE_NAMES])
        elif isinstance(item, list):
            if len(item) != N_FEATURES:
                raise InputError("wrong_feature_count", f"row {i} has {len(item)} values, expected {N_FEATURES}", row=i)
            rows.append(item)
        else:
            raise InputError("wrong_shape", f"row {i} is a {type(item).__name__}, expected object or array", row=i)
    return rows


# ---------------------------------------------------------------------------------------------- predictor


@dataclass(frozen=True)
class Prediction:
    probabilities: np.ndarray
    labels: np.ndarray


class Predictor:
    """A loaded model: validates rows, predicts, and encodes responses."""

    def __init__(self, pipeline: Pipeline, metadata: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.metadata = metadata
        self.version = str(metadata["model_version"])
        self.threshold = float(metadata["threshold"])
        try:
            prep, self._clf = pipeline.named_steps["prep"], pipeline.named_steps["clf"]
            steps = {name: (est, list(cols)) for name, est, cols in prep.transformers_}
            encoder, cat_cols = steps["cat"]
            _, num_cols = steps["num"]
        except (KeyError, AttributeError, ValueError) as exc:
            raise ModelLoadError(f"pipeline does not have the prep(cat, num) -> clf shape: {exc!r}") from exc
        if cat_cols != list(CATEGORICAL_FEATURES) or num_cols != list(NUMERIC_FEATURES):
            raise ModelLoadError(f"pipeline columns {cat_cols + num_cols} differ from the schema {FEATURE_NAMES}")
        self._maps = [{str(c): float(i) for i, c in enumerate(cats)} for cats in encoder.categories_]
        from model_code._trees import CompiledTrees

        self._trees: CompiledTrees | None
        try:
            self._trees = CompiledTrees(self._clf)
        except Exception as exc:  # reads private sklearn arrays: any surprise means "use the public path"
            log.warning("trees not compiled (%s); using scikit-learn's predict_proba", exc)
            self._trees = None
        self._self_check()

    @classmethod
    def from_dir(cls, model_dir: Path) -> Predictor:
        try:
            from model_code.model import load_model

            pipeline, metadata = load_model(model_dir)
        except Exception as exc:  # a bad pickle can raise nearly anything
            raise ModelLoadError(f"cannot load model from {model_dir}: {type(exc).__name__}: {exc}") from exc
        return cls(pipeline, metadata)

    def _self_check(self) -> None:
        """Compare the fast path with `pipeline.predict_proba` on varied probe rows; fall back or refuse."""
        import pandas as pd

        rng = np.random.default_rng(0)
        rows: list[list[Any]] = []
        for k in range(64):
            row: list[Any] = []
            for f in FEATURES:
                if f.kind is FeatureKind.CATEGORICAL:
                    row.append(f.categories[k % len(f.categories)] if k % 5 else "never-seen")
                elif f.kind is FeatureKind.FLAG:
                    row.append(int(rng.integers(0, 2)))
                else:
                    upper = f.maximum if math.isfinite(f.maximum) else 10 ** rng.uniform(0, 4)
                    row.append(float(rng.uniform(f.minimum, upper)))
            rows.append(row)
        slow = self.pipeline.predict_proba(pd.DataFrame(rows, columns=list(FEATURE_NAMES)))[:, 1]
        if self._trees is not None and not np.allclose(self.predict_rows(rows).probabilities, slow, rtol=1e-9):
            log.warning("compiled trees disagree with scikit-learn; using scikit-learn's predict_proba")
            self._trees = None
        fast = self.predict_rows(rows).probabilities
        if not np.allclose(fast, slow, rtol=1e-9, atol=1e-12):
            raise ModelLoadError(f"fast path disagrees with pipeline.predict_proba: {fast[:4]} vs {slow[:4]}")

    def _positive(self, x: np.ndarray) -> np.ndarray:
        if self._trees is not None:
            return self._trees.predict_positive(x)
        return self._clf.predict_proba(x)[:, 1]

    def matrix(self, rows: Sequence[Sequence[Any]], text: bool) -> np.ndarray:
        """Validate rows into the classifier's input matrix (categoricals first, then numerics).

        `text` rows (CSV) hold strings to parse; JSON rows must hold numbers for numeric features
        (booleans too for flags) and strings or null for categoricals.
        """
        columns = list(zip(*rows, strict=True))  # one tuple per feature: cheaper than indexing each row
        cat_block: list[list[float]] = []
        for j, (pos, mapping) in enumerate(zip(_CAT_POS, self._maps, strict=True)):
            column = columns[pos]
            if not text and not set(map(type, column)) <= _CAT_TYPES:
                i = next(i for i, v in enumerate(column) if type(v) not in _CAT_TYPES)
                name = CATEGORICAL_FEATURES[j]
                raise InputError(
                    "invalid_type",
                    f"row {i}: {name} is a JSON {_json_type(column[i])}, expected a string",
                    row=i,
                    column=name,
                )
            cat_block.append([mapping.get(v, math.nan) for v in column])
        num_block: list[Any] = []
        for j, pos in enumerate(_NUM_POS):
            column = columns[pos]
            try:
                if text:
                    num_block.append(list(map(float, column)))
                else:
                    if not set(map(type, column)) <= (_FLAG_TYPES if j in _FLAG_COLS else _NUMBER_TYPES):
                        raise TypeError
                    num_block.append(column)
            except (ValueError, TypeError, OverflowError):
                _raise_bad_number(list(column), NUMERIC_FEATURES[j])
        try:
            x = np.array(cat_block + num_block, dtype=np.float64).T
        except OverflowError:  # a JSON integer too big for a double
            raise InputError("invalid_type", "a value is too large to be a number") from None
        num = x[:, len(_CAT_POS) :]
        finite = np.isfinite(num)
        if not finite.all():
            i, j = map(int, np.argwhere(~finite)[0])
            raise InputError(
                "non_finite",
                f"row {i}: {NUMERIC_FEATURES[j]} is {num[i, j]}",
                row=i,
                column=NUMERIC_FEATURES[j],
            )
        bad = (num < _LOWER) | (num > _UPPER)
        if _FLAG_COLS:
            flags = num[:, _FLAG_COLS]
            bad[:, _FLAG_COLS] |= (flags != 0) & (flags != 1)
        if bad.any():
            i, j = map(int, np.argwhere(bad)[0])
            name = NUMERIC_FEATURES[j]
            f = FEATURES_BY_NAME[name]
            allowed = "0 or 1" if f.kind is FeatureKind.FLAG else f"in [{f.minimum:g}, {f.maximum:g}]"
            raise InputError("out_of_range", f"row {i}: {name}={num[i, j]:g}, must be {allowed}", row=i, column=name)
        return x

    def predict_rows(self, rows: Sequence[Sequence[Any]], text: bool = False) -> Prediction:
        probabilities = self._positive(self.matrix(rows, text))
        return Prediction(probabilities, probabilities >= self.threshold)

    def predict_body(self, body: bytes, content_type: str) -> Prediction:
        if content_type == CSV:
            return self.predict_rows(decode_csv(body), text=True)
        return self.predict_rows(decode_json(body))

    def encode(self, prediction: Prediction, accept: str) -> bytes:
        if accept == CSV:
            return "".join(
                f"{p:.6f},{int(y)}\n"
                for p, y in zip(prediction.probabilities.tolist(), prediction.labels.tolist(), strict=True)
            ).encode()
        return orjson.dumps(
            {
                "predictions": [
                    {"fraud_probability": p, "is_fraud": y}
                    for p, y in zip(prediction.probabilities.tolist(), prediction.labels.tolist(), strict=True)
                ],
                "model_version": self.version,
            }
        )

    def handle(self, body: bytes, content_type: str, accept: str) -> bytes:
        """Body in, body out: what one /invocations call does once headers are negotiated."""
        return self.encode(self.predict_body(body, content_type), accept)


def _raise_bad_number(column: list[Any], name: str) -> None:
    kind = FEATURES_BY_NAME[name].kind
    for i, v in enumerate(column):
        if isinstance(v, str):
            try:
                float(v)
                continue
            except ValueError:
                pass
            what = "missing" if not v.strip() else f"{v[:40]!r} is not a number"
            kind_ = "missing_value" if not v.strip() else "invalid_type"
            raise InputError(kind_, f"row {i}: {name} {what}", row=i, column=name)
        if v is None:
            raise InputError("missing_value", f"row {i}: {name} is null", row=i, column=name)
        if type(v) not in (_FLAG_TYPES if kind is FeatureKind.FLAG else _NUMBER_TYPES):
            raise InputError(
                "invalid_type",
                f"row {i}: {name} is a JSON {_json_type(v)}, expected a number",
                row=i,
                column=name,
            )
        try:
            float(v)
        except (OverflowError, TypeError, ValueError):
            raise InputError("invalid_type", f"row {i}: {name} is not a usable number", row=i, column=name) from None
    raise InputError("invalid_type", f"{name}: values are not numbers", column=name)


def _json_type(value: Any) -> str:
    return {str: "string", bool: "boolean", list: "array", dict: "object", type(None): "null"}.get(
        type(value), type(value).__name__
    )
