"""SageMaker processing job: score the test split and write `evaluation.json`.

    python evaluate.py [--model-dir /opt/ml/processing/model] [--test-dir /opt/ml/processing/test]
                       [--output-dir /opt/ml/processing/evaluation] [--bootstrap 100]

The model dir may hold `model.tar.gz` (the training job's output) or the extracted files. The output follows
the SageMaker model-quality format (`binary_classification_metrics.<metric>.value/standard_deviation`), so the
same file serves a pipeline ConditionStep (JsonGet on a PropertyFile) and the registry's ModelMetrics. The
standard deviations come from a bootstrap over the test rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file (SageMaker script mode): make `model_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from model_code._io import extract_tarball, read_tables
from model_code.model import load_model
from model_code.schema import FEATURE_NAMES, LABEL

BASE = "/opt/ml/processing"
EVALUATION_FILE = "evaluation.json"
"""File name inside the output dir; the pipeline's PropertyFile `path`."""

EVALUATION_JSON_PATHS: dict[str, str] = {
    "roc_auc": "binary_classification_metrics.roc_auc.value",
    "auc": "binary_classification_metrics.auc.value",
    "pr_auc": "binary_classification_metrics.pr_auc.value",
    "precision": "binary_classification_metrics.precision.value",
    "recall": "binary_classification_metrics.recall.value",
    "f1": "binary_classification_metrics.f1.value",
    "accuracy": "binary_classification_metrics.accuracy.value",
    "false_positive_rate": "binary_classification_metrics.false_positive_rate.value",
    "threshold": "binary_classification_metrics.threshold.value",
}
"""JsonGet paths into evaluation.json, e.g. `JsonGet(step_name=..., property_file=..., json_path=
EVALUATION_JSON_PATHS["roc_auc"])`. `auc` repeats `roc_auc` under the name SageMaker model-quality uses."""


def _point_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = scores >= threshold
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    tp = int((predicted & (y == 1)).sum())
    fp = int((predicted & (y == 0)).sum())
    precision = tp / max(tp + fp, 1)
    recall = tp / max(positives, 1)
    both_classes = 0 < positives < len(y)
    roc = float(roc_auc_score(y, scores)) if both_classes else float("nan")
    return {
        "roc_auc": roc,
        "auc": roc,
        "pr_auc": float(average_precision_score(y, scores)) if positives else float("nan"),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / max(precision + recall, 1e-12),
        "accuracy": float((predicted == (y == 1)).mean()),
        "false_positive_rate": fp / max(negatives, 1),
    }


def compute_metrics(
    y: np.ndarray, scores: np.ndarray, threshold: float, bootstrap: int = 100, seed: int = 0
) -> dict[str, Any]:
    """The `binary_classification_metrics` section: each metric's value and bootstrap standard deviation."""
    point = _point_metrics(y, scores, threshold)
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(bootstrap):
        idx = rng.integers(0, len(y), size=len(y))
        for key, value in _point_metrics(y[idx], scores[idx], threshold).items():
            if np.isfinite(value):
                samples[key].append(value)
    section: dict[str, Any] = {
        key: {"value": round(value, 6), "standard_deviation": round(float(np.std(samples[key])), 6)}
        if samples[key]
        else {"value": round(value, 6), "standard_deviation": 0.0}
        for key, value in point.items()
    }
    predicted = scores >= threshold
    section["threshold"] = {"value": threshold, "standard_deviation": 0.0}
    section["confusion_matrix"] = {
        actual: {pred: int(((y == int(actual)) & (predicted == (pred == "1"))).sum()) for pred in ("0", "1")}
        for actual in ("0", "1")
    }
    fpr, tpr, _ = roc_curve(y, scores)
    keep = np.unique(np.linspace(0, len(fpr) - 1, num=min(len(fpr), 101)).astype(int))
    section["receiver_operating_characteristic_curve"] = {
        "false_positive_rates": [round(float(v), 6) for v in fpr[keep]],
        "true_positive_rates": [round(float(v), 6) for v in tpr[keep]],
    }
    return section


def _model_dir(path: Path, scratch: Path) -> Path:
    tarball = path / "model.tar.gz" if path.is_dir() else path
    if tarball.is_file() and tarball.name.endswith(".tar.gz"):
        return extract_tarball(tarball, scratch)
    return path


def run(model_dir: Path, test_dir: Path, output_dir: Path, bootstrap: int = 100) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        pipeline, metadata = load_model(_model_dir(model_dir, Path(scratch)))
    frame = read_tables(test_dir)
    missing = [c for c in (*FEATURE_NAMES, LABEL) if c not in frame.columns]
    if missing:
        raise ValueError(f"{test_dir} lacks columns {missing}")
    y = frame[LABEL].to_numpy(dtype=int)
    scores = pipeline.predict_proba(frame.loc[:, list(FEATURE_NAMES)])[:, 1]
    report = {
        "binary_classification_metrics": compute_metrics(y, scores, float(metadata["threshold"]), bootstrap),
        "evaluation": {
            "model_version": metadata["model_version"],
            "test_rows": len(y),
            "test_positives": int(y.sum()),
            "bootstrap_samples": bootstrap,
        },
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / EVALUATION_FILE).write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="Evaluate the model on the test split.")
    parser.add_argument("--model-dir", type=Path, default=Path(f"{BASE}/model"))
    parser.add_argument("--test-dir", type=Path, default=Path(f"{BASE}/test"))
    parser.add_argument("--output-dir", type=Path, default=Path(f"{BASE}/evaluation"))
    parser.add_argument("--bootstrap", type=int, default=100, help="resamples for standard deviations")
    args = parser.parse_args(argv)
    report = run(args.model_dir, args.test_dir, args.output_dir, args.bootstrap)
    metrics = report["binary_classification_metrics"]
    print(json.dumps({k: metrics[k]["value"] for k in ("roc_auc", "pr_auc", "precision", "recall")}))
    return report


if __name__ == "__main__":
    main()
