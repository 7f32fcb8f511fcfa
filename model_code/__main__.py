"""`python -m model_code <command>`: the model's jobs, locally and inside the image.

train-local --out build/model   data -> preprocess -> train -> evaluate -> model.tar.gz, in one go
serve                           the inference server (SageMaker runs `docker run <image> serve`)
train                           SageMaker training (SageMaker runs `docker run <image> train`)
preprocess | evaluate           SageMaker processing jobs
generate-data                   synthetic raw transactions
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

USAGE = __doc__ or ""


def train_local(argv: Sequence[str]) -> dict[str, Any]:
    """Build a served model from nothing; print and return where everything went."""
    import argparse

    from model_code import data, evaluate, preprocess, train
    from model_code._io import extract_tarball, make_tarball

    parser = argparse.ArgumentParser(prog="python -m model_code train-local", description=train_local.__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/model"))
    parser.add_argument("--rows", type=int, default=data.DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=data.DEFAULT_SEED)
    parser.add_argument("--format", choices=("csv", "parquet"), default="parquet")
    parser.add_argument("--bootstrap", type=int, default=100)
    parser.add_argument("train_args", nargs="*", help="extra train.py flags after --, e.g. -- --max-iter 50")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    out: Path = args.out
    work = out / "work"
    if out.is_dir() and any(out.iterdir()) and not (out / "work").is_dir():
        raise SystemExit(f"refusing to clear {out}: it is not empty and not a previous train-local output")
    shutil.rmtree(out, ignore_errors=True)
    raw = work / "raw" / "transactions"
    data.write_raw(data.generate_transactions(args.rows, args.seed), raw, args.format)
    splits = {name: work / "processing" / name for name in preprocess.SPLITS}
    preprocess.run(raw, splits)
    model_dir = work / "model"
    report = train.main(
        [
            "--train", str(splits["train"]),
            "--validation", str(splits["validation"]),
            "--model-dir", str(model_dir),
            "--output-data-dir", str(work / "output"),
            *args.train_args,
        ]
    )  # fmt: skip
    tarball = make_tarball(model_dir, out / "model.tar.gz")
    evaluation = evaluate.run(tarball, splits["test"], out, args.bootstrap)
    extracted = extract_tarball(tarball, out / "extracted")
    shutil.copy(work / "output" / "metrics.json", out / "metrics.json")
    summary = {
        "model_version": report["model_version"],
        "model_tarball": str(tarball),
        "evaluation": str(out / evaluate.EVALUATION_FILE),
        "extracted_model_dir": str(extracted),
        "test": {k: evaluation["binary_classification_metrics"][k]["value"] for k in ("roc_auc", "pr_auc")},
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(summary, indent=2))
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return
    command, rest = argv[0], argv[1:]
    if command == "train-local":
        train_local(rest)
    elif command == "serve":
        from model_code import server

        server.main(rest)
    elif command == "train":
        from model_code import train

        train.main(rest)
    elif command == "preprocess":
        from model_code import preprocess

        preprocess.main(rest)
    elif command == "evaluate":
        from model_code import evaluate

        evaluate.main(rest)
    elif command == "generate-data":
        from model_code import data

        data.main(rest)
    else:
        print(f"unknown command {command!r}\n{USAGE}", file=sys.stderr)
        raise SystemExit(2)


if __name__ == "__main__":
    main()
