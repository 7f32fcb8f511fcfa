"""Per-model training pipeline settings (the SageMaker pipeline, the registry and retraining)."""

from __future__ import annotations

import enum

from pydantic import Field

from ._base import SettingsModel


class ApprovalPolicy(enum.StrEnum):
    """What status a model version gets when the pipeline registers it."""

    AUTO = "auto"
    """Registered as Approved: dev may deploy what it trains without a human."""
    MANUAL = "manual"
    """Registered as PendingManualApproval: a person approves it (`mlops approve`)."""


class TrainingSettings(SettingsModel):
    """How a model is trained, judged and registered. Omitted fields take the defaults below."""

    instance_type: str = Field("ml.m5.xlarge", description="Training instance type.")
    instance_count: int = Field(1, ge=1, le=20, description="Training instance count.")
    processing_instance_type: str = Field(
        "ml.m5.large", description="Instance type of the preprocessing and evaluation jobs."
    )
    hyperparameters: dict[str, str | int | float] = Field(
        default_factory=dict, description="Passed to the training entry point; merged over its defaults."
    )
    evaluation_threshold: float = Field(
        0.85, ge=0.0, le=1.0, description="Minimum test ROC-AUC for a model version to be registered."
    )
    approval: ApprovalPolicy = Field(
        ApprovalPolicy.MANUAL, description="Approval status of registered versions (prod must be manual)."
    )
