"""SageMaker processing job: raw transactions -> train / validation / test CSVs.

Reads every CSV/Parquet file under the input dir, keeps the schema columns, drops duplicate transactions and
rows with a missing label, then splits by event time (oldest to newest: train, validation, test) so that
evaluation measures the model on transactions later than those it learned from, as in production.

    python preprocess.py [--input-dir /opt/ml/processing/input] [--train-ratio 0.7] [--validation-ratio 0.15]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a file (SageMaker script mode): make `model_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from model_code._io import read_tables
from model_code.schema import FEATURE_NAMES, LABEL

BASE = "/opt/ml/processing"
SPLITS = ("train", "validation", "test")


def split_by_time(frame: pd.DataFrame, train_ratio: float, validation_ratio: float) -> dict[str, pd.DataFrame]:
    """Clean `frame` and split it chronologically; each split holds the feature columns then the label."""
    if not (0 < train_ratio < 1 and 0 < validation_ratio < 1 and train_ratio + validation_ratio < 1):
        raise ValueError(f"ratios must be in (0, 1) and sum below 1: {train_ratio=}, {validation_ratio=}")
    missing = [c for c in (*FEATURE_NAMES, LABEL) if c not in frame.columns]
    if missing:
        raise ValueError(f"raw data lacks columns {missing}; found {list(frame.columns)}")
    if "transaction_id" in frame.columns:
        frame = frame.drop_duplicates("transaction_id", keep="last")
    frame = frame.dropna(subset=[LABEL])
    if "event_time" in frame.columns:
        frame = frame.sort_values("event_time", kind="stable")
    frame = frame.loc[:, [*FEATURE_NAMES, LABEL]].reset_index(drop=True)
    frame[LABEL] = frame[LABEL].astype(int)
    n = len(frame)
    a, b = int(n * train_ratio), int(n * (train_ratio + validation_ratio))
    parts = {"train": frame.iloc[:a], "validation": frame.iloc[a:b], "test": frame.iloc[b:]}
    for name, part in parts.items():
        if part[LABEL].nunique() < 2:
            raise ValueError(f"the {name} split ({len(part)} rows) does not hold both classes; need more data")
    return parts


def run(
    input_dir: Path, output_dirs: dict[str, Path], train_ratio: float = 0.7, validation_ratio: float = 0.15
) -> dict[str, dict[str, float]]:
    """Read, split and write `<split>/<split>.csv` under each output dir; return per-split row stats."""
    parts = split_by_time(read_tables(input_dir), train_ratio, validation_ratio)
    stats: dict[str, dict[str, float]] = {}
    for name, part in parts.items():
        out = output_dirs[name]
        out.mkdir(parents=True, exist_ok=True)
        part.to_csv(out / f"{name}.csv", index=False)
        stats[name] = {"rows": len(part), "fraud_rate": round(float(part[LABEL].mean()), 6)}
    return stats


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Split raw transactions into train/validation/test.")
    parser.add_argument("--input-dir", type=Path, default=Path(f"{BASE}/input"))
    for split in SPLITS:
        parser.add_argument(f"--{split}-dir", type=Path, default=Path(f"{BASE}/{split}"))
    parser.add_argument("--train-ratio", type=float, default=0.7)
    parser.add_argument("--validation-ratio", type=float, default=0.15)
    args = parser.parse_args(argv)
    outputs = {split: getattr(args, f"{split}_dir") for split in SPLITS}
    stats = run(args.input_dir, outputs, args.train_ratio, args.validation_ratio)
    print(json.dumps({"splits": stats}))


if __name__ == "__main__":
    main()
