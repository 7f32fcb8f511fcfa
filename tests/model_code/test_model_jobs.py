"""preprocess -> train -> evaluate -> package, as SageMaker runs them (SM_* variables, script files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from functools import reduce
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from model_code import evaluate, preprocess, train
from model_code._io import make_tarball
from model_code.data import generate_transactions, write_raw
from model_code.evaluate import EVALUATION_JSON_PATHS
from model_code.model import METADATA_FILE, MODEL_FILE
from model_code.schema import FEATURE_NAMES, LABEL

ROOT = Path(__file__).resolve().parents[2]


def json_get(doc: dict[str, Any], path: str) -> Any:
    return reduce(lambda node, key: node[key], path.split("."), doc)


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("processing")
    write_raw(generate_transactions(3000, seed=21), base / "input", "parquet")
    outputs = {name: base / name for name in preprocess.SPLITS}
    preprocess.main(["--input-dir", str(base / "input"), *[f"--{k}-dir={v}" for k, v in outputs.items()]])
    return outputs


def test_preprocess_splits_chronologically_with_both_classes(splits: dict[str, Path]) -> None:
    parts = {name: pd.read_csv(path / f"{name}.csv") for name, path in splits.items()}
    assert [len(p) for p in parts.values()] == [2100, 450, 450]
    for part in parts.values():
        assert list(part.columns) == [*FEATURE_NAMES, LABEL]
        assert set(part[LABEL]) == {0, 1}


def test_preprocess_reports_missing_columns(tmp_path: Path) -> None:
    generate_transactions(100).drop(columns=["amount"]).to_csv(tmp_path / "raw.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks columns \['amount'\]"):
        preprocess.run(tmp_path, {n: tmp_path / n for n in preprocess.SPLITS})


def test_train_evaluate_package_with_sagemaker_environment(
    splits: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir, output_dir = tmp_path / "model", tmp_path / "output"
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(splits["train"]))
    monkeypatch.setenv("SM_CHANNEL_VALIDATION", str(splits["validation"]))
    monkeypatch.setenv("SM_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("SM_OUTPUT_DATA_DIR", str(output_dir))

    report = train.main(["--max-iter", "60", "--learning-rate", "0.1"])

    assert sorted(p.name for p in model_dir.iterdir()) == [METADATA_FILE, MODEL_FILE]
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert metrics["model_version"] == report["model_version"]
    assert 0.5 < metrics["validation_roc_auc"] <= 1.0
    metadata = json.loads((model_dir / METADATA_FILE).read_text())
    assert [f["name"] for f in metadata["features"]] == list(FEATURE_NAMES)
    assert 0.0 < metadata["threshold"] < 1.0
    assert metadata["hyperparameters"]["max_iter"] == 60

    tarball = make_tarball(model_dir, tmp_path / "out" / "model.tar.gz")
    with tarfile.open(tarball) as tar:
        assert sorted(tar.getnames()) == [METADATA_FILE, MODEL_FILE]  # at the archive root
        assert {m.uid for m in tar.getmembers()} == {0}
    # The processing job gets the tarball in its model dir, as a pipeline step passes it.
    (tmp_path / "proc-model").mkdir()
    tarball.rename(tmp_path / "proc-model" / "model.tar.gz")
    evaluate.main(
        ["--model-dir", str(tmp_path / "proc-model"), "--test-dir", str(splits["test"]),
         "--output-dir", str(tmp_path / "evaluation"), "--bootstrap", "10"]
    )  # fmt: skip
    doc = json.loads((tmp_path / "evaluation" / evaluate.EVALUATION_FILE).read_text())
    assert doc["evaluation"]["model_version"] == report["model_version"]
    assert json_get(doc, EVALUATION_JSON_PATHS["threshold"]) == metadata["threshold"]


def test_the_tarball_is_reproducible(trained: Any, tmp_path: Path) -> None:
    again = make_tarball(trained.extracted, tmp_path / "again.tar.gz")
    once = make_tarball(trained.extracted, tmp_path / "once.tar.gz")
    assert again.read_bytes() == once.read_bytes()


def test_evaluation_json_has_the_model_quality_shape(trained: Any) -> None:
    doc = json.loads(trained.evaluation.read_text())
    metrics = doc["binary_classification_metrics"]
    for name in ("roc_auc", "auc", "pr_auc", "precision", "recall", "f1", "accuracy", "false_positive_rate"):
        assert set(metrics[name]) == {"value", "standard_deviation"}, name
        assert 0.0 <= metrics[name]["value"] <= 1.0
        assert metrics[name]["standard_deviation"] >= 0.0
    for key, path in EVALUATION_JSON_PATHS.items():
        assert isinstance(json_get(doc, path), float), key
    assert metrics["roc_auc"]["value"] > 0.75  # learnable signal, even from 2800 training rows
    matrix = metrics["confusion_matrix"]
    assert sum(matrix[a][p] for a in "01" for p in "01") == doc["evaluation"]["test_rows"]
    curve = metrics["receiver_operating_characteristic_curve"]
    assert len(curve["false_positive_rates"]) == len(curve["true_positive_rates"]) > 2


def test_train_local_lays_out_the_build_dir(trained: Any) -> None:
    assert trained.tarball.is_file() and trained.evaluation.is_file()
    assert (trained.extracted / MODEL_FILE).is_file() and (trained.extracted / METADATA_FILE).is_file()
    assert json.loads((trained.out / "metrics.json").read_text())["train_rows"] == 2800


def test_hyperparameters_json_becomes_flags(tmp_path: Path) -> None:
    path = tmp_path / "hyperparameters.json"
    path.write_text(json.dumps({"max_iter": "40", "learning-rate": 0.2, "sagemaker_program": "train.py"}))
    assert train.hyperparameters_from_file(path) == ["--max-iter", "40", "--learning-rate", "0.2"]
    args = train.build_parser().parse_args(train._normalise_flags(["--max_iter=7", "--early-stopping", "false"]))
    assert (args.max_iter, args.early_stopping) == (7, False)


def test_scripts_run_as_plain_files_like_sagemaker_script_mode(splits: dict[str, Path], tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SM_CHANNEL_TRAIN": str(splits["train"]),
        "SM_CHANNEL_VALIDATION": str(splits["validation"]),
        "SM_MODEL_DIR": str(tmp_path / "model"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "output"),
        "PYTHONPATH": "",
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "model_code" / "train.py"), "--max-iter", "20", "--model-version", "v-test"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "validation_roc_auc=" in done.stdout  # the line SageMaker metric_definitions parse
    assert json.loads((tmp_path / "model" / METADATA_FILE).read_text())["model_version"] == "v-test"
