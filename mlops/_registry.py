"""The SageMaker model registry as the promotion gates see it: package ARNs, groups, versions, approval.

A model's versions live in one model package group named `<project>-<stack>-<model>` after the stack whose
pipeline trains it (dev trains: `mlops-dev-fraud-detector`). Later stages pin versions of that group by ARN.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import botocore.exceptions

from ._aws import AwsError, AwsSession, aws_call, error_code, error_message
from .settings import ModelSettings, StackSettings

PACKAGE_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[A-Za-z0-9](?:-*[A-Za-z0-9]){0,62})/(?P<version>\d+)$"
)
# SageMaker's limit on ApprovalDescription.
REASON_LIMIT = 1024
# Metrics shown first in tables when an evaluation report has them (evaluate.py's headline metrics).
PREFERRED_METRICS = ("roc_auc", "pr_auc", "precision", "recall", "f1", "accuracy", "mse", "rmse", "r2")


class Approval(enum.StrEnum):
    """A model package's approval status (SageMaker's ModelApprovalStatus)."""

    APPROVED = "Approved"
    REJECTED = "Rejected"
    PENDING = "PendingManualApproval"


def partition_of(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Registry:
    """One model package group: where a model's versions are registered."""

    group: str
    account: str
    region: str
    partition: str = "aws"

    def package_arn(self, version: int) -> str:
        """The ARN of version N of this group."""
        return (
            f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:model-package/{self.group}/{version}"
        )

    def __str__(self) -> str:
        return f"{self.group} (account {self.account}, {self.region})"


@dataclass(frozen=True)
class PackageRef:
    """One registered model version, by group and number."""

    registry: Registry
    version: int

    @classmethod
    def parse(cls, arn: str) -> PackageRef:
        """Split a versioned model package ARN; ValueError names the ARN when it is not one."""
        match = PACKAGE_ARN_RE.match(arn)
        if match is None:
            raise ValueError(f"'{arn}' is not a versioned model package ARN (arn:aws:sagemaker:<region>:"
                             "<account>:model-package/<group>/<version>)")
        registry = Registry(match["group"], match["account"], match["region"], match["partition"])
        return cls(registry, int(match["version"]))

    @property
    def arn(self) -> str:
        """The package ARN."""
        return self.registry.package_arn(self.version)

    def __str__(self) -> str:
        return f"version {self.version} of {self.registry.group}"


@dataclass(frozen=True)
class PackageVersion:
    """What the registry says about one version."""

    arn: str
    group: str | None
    version: int | None
    approval: str | None
    status: str | None
    reason: str
    created: datetime | None
    metrics_uri: str | None

    @classmethod
    def from_description(cls, d: dict[str, Any]) -> PackageVersion:
        """From a DescribeModelPackage response."""
        statistics = (d.get("ModelMetrics") or {}).get("ModelQuality", {}).get("Statistics", {})
        return cls(
            arn=d["ModelPackageArn"],
            group=d.get("ModelPackageGroupName"),
            version=d.get("ModelPackageVersion"),
            approval=d.get("ModelApprovalStatus"),
            status=d.get("ModelPackageStatus"),
            reason=str(d.get("ApprovalDescription") or ""),
            created=d.get("CreationTime"),
            metrics_uri=statistics.get("S3Uri"),
        )


def registry_of(settings: StackSettings, model: ModelSettings) -> Registry:
    """The group a stack's model versions are read from: the group of the version it pins, else its own group
    (`<project>-<stack>-<model>` in the stack's account and region: the stack trains the model itself)."""
    if model.model_package_arn is not None:
        return PackageRef.parse(model.model_package_arn).registry
    return Registry(
        settings.model_resource_name(model), settings.account_id, settings.region, partition_of(settings.region)
    )


def _is_not_found(exc: botocore.exceptions.ClientError) -> bool:
    # SageMaker answers an unknown package with a ValidationException "... does not exist." (moto: "not found").
    message = error_message(exc).lower()
    return error_code(exc) in ("ResourceNotFound", "ResourceNotFoundException") or (
        error_code(exc) == "ValidationException" and ("does not exist" in message or "not found" in message)
    )


def describe_version(session: AwsSession, ref: PackageRef) -> PackageVersion | None:
    """The registry's record of a version, or None when no such version exists."""
    client = session.client("sagemaker", ref.registry.region)
    with aws_call("sagemaker:DescribeModelPackage", ref.arn):
        try:
            return PackageVersion.from_description(client.describe_model_package(ModelPackageName=ref.arn))
        except botocore.exceptions.ClientError as exc:
            if _is_not_found(exc):
                return None
            raise


def list_versions(session: AwsSession, registry: Registry, limit: int) -> list[PackageVersion]:
    """The newest `limit` versions of a group, highest version first, each fully described (with metrics URI)."""
    client = session.client("sagemaker", registry.region)
    refs: list[PackageRef] = []
    with aws_call("sagemaker:ListModelPackages", str(registry)):
        try:
            for page in client.get_paginator("list_model_packages").paginate(ModelPackageGroupName=registry.group):
                refs.extend(PackageRef.parse(s["ModelPackageArn"]) for s in page.get("ModelPackageSummaryList", []))
        except botocore.exceptions.ClientError as exc:
            if _is_not_found(exc):
                raise AwsError(f"model package group {registry} does not exist") from None
            raise
    newest = sorted(refs, key=lambda ref: ref.version, reverse=True)[:limit]
    found = [describe_version(session, ref) for ref in newest]
    return [v for v in found if v is not None]


def latest_approved(session: AwsSession, registry: Registry) -> PackageRef | None:
    """The newest Approved version of a group (the highest version number: the registry numbers versions in
    registration order, which creation timestamps cannot always tell apart), if any."""
    client = session.client("sagemaker", registry.region)
    approved: list[PackageRef] = []
    with aws_call("sagemaker:ListModelPackages", str(registry)):
        pages = client.get_paginator("list_model_packages").paginate(
            ModelPackageGroupName=registry.group, ModelApprovalStatus=Approval.APPROVED.value
        )
        for page in pages:
            approved.extend(PackageRef.parse(s["ModelPackageArn"]) for s in page.get("ModelPackageSummaryList", []))
    return max(approved, key=lambda ref: ref.version, default=None)


def set_approval(session: AwsSession, ref: PackageRef, approval: Approval, reason: str) -> None:
    """Record a reviewer's decision on a version, with the reason (kept by the registry for audits)."""
    client = session.client("sagemaker", ref.registry.region)
    with aws_call("sagemaker:UpdateModelPackage", ref.arn):
        client.update_model_package(
            ModelPackageArn=ref.arn, ModelApprovalStatus=approval.value, ApprovalDescription=reason
        )


def gate_problem(ref: PackageRef, found: PackageVersion | None, approve_hint: str) -> str | None:
    """Why a version must not be promoted, or None when it may: it exists, belongs to the group its ARN names,
    finished registering and is Approved. `approve_hint` is the command a reviewer would run."""
    if found is None:
        return f"{ref} does not exist in the model registry ({ref.registry}); unknown versions are never promoted"
    if found.group != ref.registry.group:
        return f"{ref.arn} belongs to group '{found.group}', not '{ref.registry.group}' as its ARN says"
    if found.status not in (None, "Completed"):
        return f"{ref} is {found.status}, not Completed: its registration has not finished"
    reason = f" (reason: {found.reason})" if found.reason else ""
    if found.approval == Approval.APPROVED:
        return None
    if found.approval == Approval.REJECTED:
        return f"{ref} was Rejected{reason}; a rejected version is never promoted"
    if found.approval == Approval.PENDING:
        return f"{ref} is PendingManualApproval: no reviewer has approved it; approve it with `{approve_hint}`"
    return f"{ref} has approval status {found.approval!r}; only Approved versions are promoted"


def metric_values(report: Any) -> dict[str, float]:
    """The `<section>.<metric>.value` numbers of a SageMaker model-quality report (evaluation.json)."""
    values: dict[str, float] = {}
    if not isinstance(report, dict):
        return values
    for section, metrics in report.items():
        if not isinstance(metrics, dict):
            continue
        for name, body in metrics.items():
            value = body.get("value") if isinstance(body, dict) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                values[name if name not in values else f"{section}.{name}"] = float(value)
    return values


def read_metrics(session: AwsSession, uri: str, region: str) -> dict[str, float]:
    """Metric values from the evaluation report a version was registered with (ModelMetrics statistics)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise AwsError(f"metrics location '{uri}' is not an s3://bucket/key URI")
    with aws_call("s3:GetObject", uri):
        body = session.client("s3", region).get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        return metric_values(json.loads(body))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AwsError(f"metrics report {uri} is not JSON: {exc}") from None


def preferred_metric_names(all_values: list[dict[str, float]], limit: int = 4) -> list[str]:
    """The metric columns of a table: headline metrics first, then the others, at most `limit`."""
    names = {name for values in all_values for name in values}
    ordered = [m for m in PREFERRED_METRICS if m in names] + sorted(names - set(PREFERRED_METRICS))
    return ordered[:limit]
