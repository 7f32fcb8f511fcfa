"""Stack-wide settings: environment, ownership, account, data lake."""

from __future__ import annotations

import enum

from pydantic import Field

from ._base import SettingsModel


class Environment(enum.StrEnum):
    """The promotion stages, in order."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"

    @property
    def is_production_like(self) -> bool:
        """Staging and prod are held to production standards (HA, manual approval, VPC)."""
        return self is not Environment.DEV


class DataLakeSettings(SettingsModel):
    """The data lake's buckets: how long things are kept and whether the stack may delete them."""

    force_destroy: bool = Field(
        False,
        description="Let `pulumi destroy` empty and delete non-empty buckets. Only for throwaway dev stacks.",
    )
    noncurrent_version_days: int = Field(
        90, ge=1, le=3650, description="Days a replaced or deleted object version is kept before expiry."
    )
    abort_incomplete_multipart_days: int = Field(
        7, ge=1, le=365, description="Days after which unfinished multipart uploads are aborted."
    )
    raw_intelligent_tiering_days: int = Field(
        30, ge=0, le=3650, description="Days before raw data moves to S3 Intelligent-Tiering (0 = at once)."
    )
    raw_glacier_days: int | None = Field(
        None, ge=90, le=3650, description="Days before raw data moves to Glacier Instant Retrieval; omit to keep."
    )
    access_log_retention_days: int = Field(
        365, ge=1, le=3650, description="Days S3 server access logs are kept."
    )


class ImageSettings(SettingsModel):
    """The one serving/training image, built once by CI and pinned by digest per stack."""

    repository: str = Field(
        "mlops-model",
        pattern=r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*$",
        max_length=200,
        description="ECR repository name the image lives in (created by the stack).",
    )
    account_id: str | None = Field(
        None,
        pattern=r"^\d{12}$",
        description=(
            "Account whose ECR registry holds the image (the one CI pushes to). Omit when it is the stack's own "
            "account; staging and prod usually pull the image dev's CI built, by digest."
        ),
    )
    digest: str | None = Field(
        None,
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="Image digest (sha256:...) CI pushed; omit only in dev before the first build.",
    )
    untagged_expiry_days: int = Field(
        14, ge=1, le=3650,
        description="Days an untagged image stays in the repository the stack creates; tagged images never expire.",
    )
