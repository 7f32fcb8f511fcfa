"""Training entry point: SageMaker script mode (`python train.py --learning-rate 0.1`) or local.

Inputs and outputs follow the SageMaker training contract, each overridable by a flag:
  SM_CHANNEL_TRAIN / SM_CHANNEL_VALIDATION   CSV/Parquet with the feature columns and `is_fraud`
                                             (without SM_* it falls back to /opt/ml/input/data/<channel>)
  SM_MODEL_DIR        (/opt/ml/model)        model.joblib + metadata.json; SageMaker tars it to model.tar.gz
  SM_OUTPUT_DATA_DIR  (/opt/ml/output/data)  metrics.json (validation metrics, threshold, timings)
Hyperparameters come from the flags and, in a bring-your-own-container job (`docker run image train`),
from /opt/ml/input/config/hyperparameters.json; flags win. On failure the reason is written to
/opt/ml/output/failure, which SageMaker shows as the job's FailureReason.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file (SageMaker script mode): make `model_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from model_code._io import env_path, read_tables
from model_code.model import HyperParameters, ModelMetadata, build_pipeline, feature_schema, save_model
from model_code.schema import FEATURE_NAMES, LABEL

HYPERPARAMETERS_JSON = Path("/opt/ml/input/config/hyperparameters.json")
FAILURE_FILE = Path("/opt/ml/output/failure")


def _bool(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {value!r}")


def _optional_str(value: str) -> str | None:
    return None if value.lower() in ("", "none", "null") else value


def build_parser() -> argparse.ArgumentParser:
    defaults = HyperParameters()
    p = argparse.ArgumentParser(description="Train the card-fraud model.")
    p.add_argument("--train", type=Path, default=env_path("SM_CHANNEL_TRAIN", default="/opt/ml/input/data/train"))
    p.add_argument(
        "--validation",
        type=Path,
        default=env_path("SM_CHANNEL_VALIDATION", default="/opt/ml/input/data/validation"),
    )
    p.add_argument("--model-dir", type=Path, default=env_path("SM_MODEL_DIR", default="/opt/ml/model"))
    p.add_argument(
        "--output-data-dir", type=Path, default=env_path("SM_OUTPUT_DATA_DIR", default="/opt/ml/output/data")
    )
    p.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    p.add_argument("--max-iter", type=int, default=defaults.max_iter)
    p.add_argument("--max-leaf-nodes", type=int, default=defaults.max_leaf_nodes)
    p.add_argument("--min-samples-leaf", type=int, default=defaults.min_samples_leaf)
    p.add_argument("--l2-regularization", type=float, default=defaults.l2_regularization)
    p.add_argument("--max-bins", type=int, default=defaults.max_bins)
    p.add_argument("--early-stopping", type=_bool, default=defaults.early_stopping)
    p.add_argument("--class-weight", type=_optional_str, default=defaults.class_weight)
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="decision threshold; default: the one maximising F1 on the validation set",
    )
    p.add_argument("--model-version", default="", help="default: model name + hash of the model file")
    return p


def hyperparameters_from_file(path: Path = HYPERPARAMETERS_JSON) -> list[str]:
    """Turn SageMaker's hyperparameters.json ({"learning-rate": "0.1"}) into argv flags."""
    if not path.is_file():
        return []
    raw: dict[str, Any] = json.loads(path.read_text())
    argv: list[str] = []
    for key, value in raw.items():
        if key.startswith("sagemaker_"):  # framework-container bookkeeping, not ours
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        argv += [f"--{key.replace('_', '-')}", text.strip('"')]
    return argv


def choose_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold with the best F1 on (y, scores)."""
    precision, recall, thresholds = precision_recall_curve(y, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def split_xy(frame: pd.DataFrame, source: Path) -> tuple[pd.DataFrame, np.ndarray]:
    missing = [c for c in (*FEATURE_NAMES, LABEL) if c not in frame.columns]
    if missing:
        raise ValueError(f"{source} lacks columns {missing}")
    return frame.loc[:, list(FEATURE_NAMES)], frame[LABEL].to_numpy(dtype=int)


def train(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    hp = HyperParameters(**{f.name: getattr(args, f.name) for f in fields(HyperParameters)})
    x_train, y_train = split_xy(read_tables(args.train), args.train)
    x_val, y_val = split_xy(read_tables(args.validation), args.validation)

    pipeline = build_pipeline(hp)
    pipeline.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - started

    scores = pipeline.predict_proba(x_val)[:, 1]
    threshold = args.threshold if args.threshold is not None else choose_threshold(y_val, scores)
    predicted = scores >= threshold
    tp = int((predicted & (y_val == 1)).sum())
    metrics = {
        "validation_roc_auc": float(roc_auc_score(y_val, scores)),
        "validation_pr_auc": float(average_precision_score(y_val, scores)),
        "validation_precision": tp / max(int(predicted.sum()), 1),
        "validation_recall": tp / max(int(y_val.sum()), 1),
    }
    metadata = ModelMetadata(
        model_version=args.model_version,
        threshold=round(float(threshold), 6),
        features=feature_schema(),
        hyperparameters=asdict(hp),
        validation_metrics={k: round(v, 6) for k, v in metrics.items()},
    )
    save_model(pipeline, args.model_dir, metadata)
    report = {
        **metadata.validation_metrics,
        "threshold": metadata.threshold,
        "model_version": metadata.model_version,
        "train_rows": len(y_train),
        "validation_rows": len(y_val),
        "boosting_iterations": int(pipeline.named_steps["clf"].n_iter_),
        "fit_seconds": round(fit_seconds, 3),
    }
    args.output_data_dir.mkdir(parents=True, exist_ok=True)
    (args.output_data_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    # One "name=value;" line per metric, for SageMaker metric_definitions regexes such as
    # {"Name": "validation:roc_auc", "Regex": "validation_roc_auc=([0-9.]+);"}.
    for key, value in metrics.items():
        print(f"{key}={value:.6f};")
    return report


def _normalise_flags(argv: Sequence[str]) -> list[str]:
    """Accept `--learning_rate` as well as `--learning-rate`: SageMaker passes keys as the user wrote them."""
    out: list[str] = []
    for arg in argv:
        if arg.startswith("--"):
            name, sep, value = arg.partition("=")
            arg = name.replace("_", "-") + sep + value
        out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_normalise_flags(hyperparameters_from_file() + argv))
    try:
        return train(args)
    except Exception:
        if FAILURE_FILE.parent.is_dir() and os.access(FAILURE_FILE.parent, os.W_OK):
            FAILURE_FILE.write_text(traceback.format_exc()[-1000:])
        raise


if __name__ == "__main__":
    main()
