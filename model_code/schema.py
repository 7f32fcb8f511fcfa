"""The model's input contract: feature names, kinds, allowed values and order.

Everything that reads or writes feature rows (data generator, training, evaluation, the server and
`sample.csv`) takes the column order from `FEATURE_NAMES`, so it is the single source of truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class FeatureKind(StrEnum):
    """How a feature is encoded on the wire and validated by the server."""

    NUMERIC = "numeric"
    """A finite number, optionally bounded by `minimum`/`maximum`."""
    FLAG = "flag"
    """0 or 1 (JSON `true`/`false` also accepted)."""
    CATEGORICAL = "categorical"
    """A string; values unseen in training are treated as missing by the model, not rejected."""


@dataclass(frozen=True)
class Feature:
    name: str
    kind: FeatureKind
    description: str
    minimum: float = -math.inf
    maximum: float = math.inf
    categories: tuple[str, ...] = ()


MERCHANT_CATEGORIES: tuple[str, ...] = (
    "grocery",
    "gas_station",
    "restaurant",
    "pharmacy",
    "utilities",
    "entertainment",
    "travel",
    "online_retail",
    "electronics",
    "jewelry",
    "gaming",
    "money_transfer",
)
CHANNELS: tuple[str, ...] = ("chip", "contactless", "online", "atm", "manual_entry")
DEVICE_TYPES: tuple[str, ...] = ("pos_terminal", "atm", "mobile_app", "web_desktop", "web_mobile", "unknown")

FEATURES: tuple[Feature, ...] = (
    Feature("amount", FeatureKind.NUMERIC, "Transaction amount in account currency.", 0.0, 1_000_000.0),
    Feature("hour_of_day", FeatureKind.NUMERIC, "Local hour of the transaction, 0-23.", 0.0, 23.0),
    Feature("day_of_week", FeatureKind.NUMERIC, "0 = Monday ... 6 = Sunday.", 0.0, 6.0),
    Feature(
        "merchant_category",
        FeatureKind.CATEGORICAL,
        "Merchant category group.",
        categories=MERCHANT_CATEGORIES,
    ),
    Feature("channel", FeatureKind.CATEGORICAL, "How the card was used.", categories=CHANNELS),
    Feature("device_type", FeatureKind.CATEGORICAL, "Device that initiated the payment.", categories=DEVICE_TYPES),
    Feature("is_new_device", FeatureKind.FLAG, "1 if the device was never seen for this customer."),
    Feature("is_foreign", FeatureKind.FLAG, "1 if the merchant is outside the customer's home country."),
    Feature("distance_from_home_km", FeatureKind.NUMERIC, "Merchant distance from the billing address.", 0.0),
    Feature(
        "distance_from_last_txn_km",
        FeatureKind.NUMERIC,
        "Distance from the previous transaction's place.",
        0.0,
    ),
    Feature("minutes_since_last_txn", FeatureKind.NUMERIC, "Minutes since the customer's previous one.", 0.0),
    Feature("account_age_days", FeatureKind.NUMERIC, "Days since the account was opened.", 0.0),
    Feature("txn_count_24h", FeatureKind.NUMERIC, "Customer's transactions in the last 24 hours.", 0.0),
    Feature("txn_count_7d", FeatureKind.NUMERIC, "Customer's transactions in the last 7 days.", 0.0),
    Feature("avg_amount_30d", FeatureKind.NUMERIC, "Customer's mean amount over the last 30 days.", 0.0),
    Feature("failed_auth_24h", FeatureKind.NUMERIC, "Failed PIN/3-D Secure attempts in the last 24 hours.", 0.0),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind is FeatureKind.CATEGORICAL)
NUMERIC_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind is not FeatureKind.CATEGORICAL)
FEATURES_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}

LABEL = "is_fraud"
"""Binary target: 1 = confirmed fraud (chargeback or customer report)."""
ID_COLUMNS: tuple[str, ...] = ("transaction_id", "customer_id", "event_time")
"""Columns present in raw data but never used as features."""
RAW_COLUMNS: tuple[str, ...] = (*ID_COLUMNS, *FEATURE_NAMES, LABEL)
