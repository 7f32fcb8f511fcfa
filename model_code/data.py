"""Seeded generator of synthetic card transactions, written the way they land in the raw bucket.

Legitimate rows follow each customer's habits (home location, typical amount, daytime activity, card-present
channels). Fraud rows (about `fraud_rate` of all rows) shift some of those features towards known fraud
patterns - night time, card-not-present, new device, far from home, bursts, amounts far from the customer's
average - but each pattern only appears in a random subset of fraud rows and some fraud rows look entirely
normal, so the signal is learnable yet noisy (ROC-AUC around 0.9, not 1.0).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from model_code.schema import CHANNELS, FEATURE_NAMES, LABEL, MERCHANT_CATEGORIES, RAW_COLUMNS

DEFAULT_ROWS = 20_000
DEFAULT_SEED = 7
DEFAULT_FRAUD_RATE = 0.025
START = pd.Timestamp("2026-01-01")
DAYS = 90

_LEGIT_MCC_P = np.array([0.22, 0.12, 0.16, 0.07, 0.05, 0.08, 0.04, 0.14, 0.05, 0.01, 0.03, 0.03])
_FRAUD_MCC_P = np.array([0.05, 0.06, 0.04, 0.02, 0.01, 0.06, 0.12, 0.22, 0.18, 0.08, 0.08, 0.08])
_HOUR_P = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3, 4.5, 5, 5.5, 6.5, 7.5, 7, 6, 6, 6.5, 7.5, 8, 7, 5.5, 4, 3, 1.8])
_HOUR_P = _HOUR_P / _HOUR_P.sum()
_LEGIT_CHANNEL_P = np.array([0.38, 0.30, 0.25, 0.05, 0.02])
_FRAUD_CHANNEL_P = np.array([0.12, 0.10, 0.58, 0.08, 0.12])


def _pick(rng: np.random.Generator, choices: Sequence[str], p: np.ndarray, n: int) -> np.ndarray:
    return np.asarray(choices, dtype=object)[rng.choice(len(choices), size=n, p=p / p.sum())]


def _device_for(channel: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(channel)
    online = rng.choice(["mobile_app", "web_desktop", "web_mobile", "unknown"], size=n, p=[0.45, 0.3, 0.2, 0.05])
    return np.where(
        channel == "atm",
        "atm",
        np.where(np.isin(channel, ["online", "manual_entry"]), online, "pos_terminal"),
    ).astype(object)


def generate_transactions(
    n_rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED, fraud_rate: float = DEFAULT_FRAUD_RATE
) -> pd.DataFrame:
    """Return `n_rows` raw transactions (ids, event time, features, label); same seed, same frame."""
    if n_rows < 1 or not 0.0 < fraud_rate < 0.5:
        raise ValueError(f"need n_rows >= 1 and 0 < fraud_rate < 0.5, got {n_rows=} {fraud_rate=}")
    rng = np.random.default_rng(seed)
    n_customers = max(1, n_rows // 25)

    # Per-customer habits.
    cust_typical = rng.lognormal(mean=3.6, sigma=0.6, size=n_customers)  # ~ 37 currency units
    cust_age = rng.gamma(shape=2.0, scale=500.0, size=n_customers)
    cust_activity = rng.gamma(shape=2.0, scale=1.2, size=n_customers)  # transactions per day
    cust_travel = rng.beta(1.0, 12.0, size=n_customers)

    cust = rng.integers(0, n_customers, size=n_rows)
    fraud = rng.random(n_rows) < fraud_rate
    # A fraud row shows each pattern only with some probability; 8% show none at all.
    disguised = rng.random(n_rows) < 0.08

    def pattern(p: float) -> np.ndarray:
        return fraud & ~disguised & (rng.random(n_rows) < p)

    day = pd.to_timedelta(rng.integers(0, DAYS, size=n_rows), unit="D")
    hour = rng.choice(24, size=n_rows, p=_HOUR_P).astype(float)
    night = pattern(0.45)
    hour[night] = rng.integers(0, 6, size=int(night.sum()))
    seconds = rng.integers(0, 3600, size=n_rows)
    event_time = START + day + pd.to_timedelta(hour, unit="h") + pd.to_timedelta(seconds, unit="s")
    dow = np.asarray(event_time.dayofweek, dtype=float)

    mcc = _pick(rng, MERCHANT_CATEGORIES, _LEGIT_MCC_P, n_rows)
    mcc_shift = pattern(0.7)
    mcc[mcc_shift] = _pick(rng, MERCHANT_CATEGORIES, _FRAUD_MCC_P, int(mcc_shift.sum()))
    channel = _pick(rng, CHANNELS, _LEGIT_CHANNEL_P, n_rows)
    ch_shift = pattern(0.7)
    channel[ch_shift] = _pick(rng, CHANNELS, _FRAUD_CHANNEL_P, int(ch_shift.sum()))
    device = _device_for(channel, rng)
    unknown_device = pattern(0.3) & np.isin(channel, ["online", "manual_entry"])
    device[unknown_device] = "unknown"

    typical = cust_typical[cust]
    amount = typical * rng.lognormal(0.0, 0.7, size=n_rows)
    big = pattern(0.4)
    amount[big] = typical[big] * rng.lognormal(1.6, 0.6, size=int(big.sum()))
    card_testing = pattern(0.15) & ~big
    amount[card_testing] = rng.uniform(0.5, 5.0, size=int(card_testing.sum()))
    amount = np.round(np.clip(amount, 0.5, 50_000.0), 2)

    is_new_device = (rng.random(n_rows) < 0.04) | pattern(0.5)
    is_foreign = (rng.random(n_rows) < cust_travel[cust] * 0.3) | pattern(0.25)

    dist_home = rng.exponential(6.0, size=n_rows)
    travelling = rng.random(n_rows) < cust_travel[cust]
    dist_home[travelling] = rng.exponential(300.0, size=int(travelling.sum()))
    far = pattern(0.4)
    dist_home[far] = rng.exponential(900.0, size=int(far.sum()))
    dist_home[is_foreign] += rng.exponential(1500.0, size=int(is_foreign.sum()))
    dist_last = np.abs(dist_home * rng.normal(0.6, 0.4, size=n_rows))
    jump = pattern(0.35)
    dist_last[jump] += rng.exponential(800.0, size=int(jump.sum()))

    activity = cust_activity[cust]
    minutes_since = rng.exponential(24 * 60 / np.maximum(activity, 0.05))
    burst = pattern(0.5)
    minutes_since[burst] = rng.exponential(4.0, size=int(burst.sum()))
    txn_24h = rng.poisson(activity)
    txn_24h[burst] += rng.integers(2, 12, size=int(burst.sum()))
    txn_7d = txn_24h + rng.poisson(activity * 6)

    account_age = cust_age[cust] + rng.uniform(0, DAYS, size=n_rows)
    young = pattern(0.25)
    account_age[young] = rng.uniform(0, 45, size=int(young.sum()))
    avg_30d = typical * rng.lognormal(0.0, 0.15, size=n_rows)
    failed = rng.poisson(0.05, size=n_rows)
    brute = pattern(0.3)
    failed[brute] += rng.integers(1, 5, size=int(brute.sum()))

    frame = pd.DataFrame(
        {
            "transaction_id": [f"t{seed:04d}{i:09d}" for i in range(n_rows)],
            "customer_id": [f"c{c:07d}" for c in cust],
            "event_time": event_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "amount": amount,
            "hour_of_day": hour.astype(int),
            "day_of_week": dow.astype(int),
            "merchant_category": mcc.astype(str),
            "channel": channel.astype(str),
            "device_type": device.astype(str),
            "is_new_device": is_new_device.astype(int),
            "is_foreign": is_foreign.astype(int),
            "distance_from_home_km": np.round(dist_home, 2),
            "distance_from_last_txn_km": np.round(dist_last, 2),
            "minutes_since_last_txn": np.round(minutes_since, 1),
            "account_age_days": np.floor(account_age).astype(int),
            "txn_count_24h": txn_24h.astype(int),
            "txn_count_7d": txn_7d.astype(int),
            "avg_amount_30d": np.round(avg_30d, 2),
            "failed_auth_24h": failed.astype(int),
            LABEL: fraud.astype(int),
        }
    )
    return frame.loc[:, list(RAW_COLUMNS)].sort_values("event_time", kind="stable").reset_index(drop=True)


def write_raw(frame: pd.DataFrame, out_dir: Path, fmt: str = "parquet") -> list[Path]:
    """Write one file per event date under `out_dir/dt=YYYY-MM-DD/` (Hive-style, as a landing zone does)."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
    written: list[Path] = []
    dates = frame["event_time"].str.slice(0, 10)
    for day, part in frame.groupby(dates, sort=True):
        target = out_dir / f"dt={day}" / f"part-00000.{fmt}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            part.to_csv(target, index=False)
        else:
            part.to_parquet(target, index=False)
        written.append(target)
    return written


def write_sample(path: Path, n_rows: int = 5, seed: int = 11) -> None:
    """Write a header + a few feature rows (no label), the payload `mlops smoke` sends to an endpoint."""
    frame = generate_transactions(max(n_rows * 40, 200), seed=seed)
    fraud = frame[frame[LABEL] == 1]
    # The fraud row shows several patterns at once, so a smoke test sees a row flagged, not a borderline one.
    signals = (
        fraud["is_new_device"]
        + fraud["hour_of_day"].lt(6)
        + fraud["channel"].isin(["online", "manual_entry"])
        + fraud["failed_auth_24h"].gt(0)
        + fraud["distance_from_home_km"].gt(500)
    )
    picked = pd.concat([frame[frame[LABEL] == 0].head(n_rows - 1), fraud.loc[[signals.idxmax()]]])
    picked.loc[:, list(FEATURE_NAMES)].to_csv(path, index=False)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory to write the raw files under")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--fraud-rate", type=float, default=DEFAULT_FRAUD_RATE)
    parser.add_argument("--format", choices=("csv", "parquet"), default="parquet")
    args = parser.parse_args(argv)
    frame = generate_transactions(args.rows, args.seed, args.fraud_rate)
    files = write_raw(frame, args.out, args.format)
    print(f"wrote {len(frame)} rows ({frame[LABEL].mean():.2%} fraud) in {len(files)} files under {args.out}")


if __name__ == "__main__":
    main()
