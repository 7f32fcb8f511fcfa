"""The synthetic data generator and the raw files it writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from model_code.data import generate_transactions, write_raw
from model_code.schema import CHANNELS, FEATURE_NAMES, LABEL, MERCHANT_CATEGORIES, RAW_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_gives_identical_frames() -> None:
    pd.testing.assert_frame_equal(generate_transactions(3000, seed=5), generate_transactions(3000, seed=5))


def test_different_seeds_give_different_frames() -> None:
    a, b = generate_transactions(3000, seed=5), generate_transactions(3000, seed=6)
    assert not a["amount"].equals(b["amount"])


def test_fraud_is_a_few_percent_and_columns_follow_the_schema() -> None:
    frame = generate_transactions(20_000, seed=1)
    assert list(frame.columns) == list(RAW_COLUMNS)
    assert 0.015 < frame[LABEL].mean() < 0.035
    assert frame["transaction_id"].is_unique
    assert set(frame["merchant_category"]) <= set(MERCHANT_CATEGORIES)
    assert set(frame["channel"]) <= set(CHANNELS)
    assert frame["amount"].gt(0).all()
    assert frame["hour_of_day"].between(0, 23).all()
    assert frame[list(FEATURE_NAMES)].notna().all().all()


def test_fraud_signal_is_present_but_noisy() -> None:
    frame = generate_transactions(20_000, seed=2)
    fraud, legit = frame[frame[LABEL] == 1], frame[frame[LABEL] == 0]
    assert fraud["is_new_device"].mean() > 3 * legit["is_new_device"].mean()
    assert fraud["hour_of_day"].lt(6).mean() > legit["hour_of_day"].lt(6).mean()
    # noisy: plenty of fraud looks like an ordinary daytime card-present purchase
    assert fraud["channel"].isin(["chip", "contactless"]).mean() > 0.1


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_raw_partitions_by_event_date(tmp_path: Path, fmt: str) -> None:
    frame = generate_transactions(500, seed=3)
    files = write_raw(frame, tmp_path, fmt)
    assert all(f.parent.name.startswith("dt=2026-") and f.suffix == f".{fmt}" for f in files)
    back = pd.concat([pd.read_csv(f) if fmt == "csv" else pd.read_parquet(f) for f in files])
    assert len(back) == len(frame)
    assert set(back["transaction_id"]) == set(frame["transaction_id"])


def test_generate_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="fraud_rate"):
        generate_transactions(10, fraud_rate=0.9)


def test_sample_csv_has_the_feature_header_and_no_label() -> None:
    sample = pd.read_csv(ROOT / "model_code" / "sample.csv")
    assert list(sample.columns) == list(FEATURE_NAMES)
    assert 1 <= len(sample) <= 20
