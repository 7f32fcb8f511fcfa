"""ImageRepository: the ECR repository CI pushes the model image to, and other accounts pull it from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ._policy_documents import policy

PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


@dataclass
class ImageRepositoryArgs:
    """Inputs of an ImageRepository. Omitted fields take the defaults documented here."""

    repository_name: str
    """Repository name CI pushes to (fixed: pipelines, endpoints and CI refer to it)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key the images are encrypted with (set at creation; changing it replaces the
    repository)."""
    consumer_account_ids: list[str] = field(default_factory=list)
    """Other accounts (staging, prod) allowed to pull. Empty: no repository policy, this account only."""
    untagged_expiry_days: int = 14
    """Days after which untagged images (superseded pushes, build leftovers) expire. Tagged images never do,
    so a release a stack pins by digest cannot disappear under it."""
    protect: bool = False
    """Protect the repository from deletion and retain it if removed from the program (prod)."""


def lifecycle_policy(untagged_expiry_days: int) -> dict[str, Any]:
    """ECR lifecycle policy: expire untagged images after N days; no rule ever selects a tagged image."""
    return {"rules": [{
        "rulePriority": 1,
        "description": f"Expire untagged images after {untagged_expiry_days} days; tagged images are kept",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                      "countNumber": untagged_expiry_days},
        "action": {"type": "expire"},
    }]}


def pull_policy(consumer_account_ids: list[str], partition: str = "aws") -> dict[str, Any]:
    """Repository policy: the consumer accounts may pull (read) images, never push or delete."""
    return policy({
        "Sid": "ConsumerAccountsPull",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:{partition}:iam::{a}:root" for a in consumer_account_ids]},
        "Action": PULL_ACTIONS,
    })


def image_uri(registry_account_id: str, region: str, repository: str, digest: str) -> str:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<repository>@<digest>`: an image pinned by digest."""
    return f"{registry_account_id}.dkr.ecr.{region}.amazonaws.com/{repository}@{digest}"


def repository_arn_of(uri: str, partition: str = "aws") -> str:
    """The ECR repository ARN of an image URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>[@|:]...`)."""
    host, _, path = uri.partition("/")
    parts = host.split(".")
    if len(parts) < 6 or parts[1:3] != ["dkr", "ecr"] or not path:
        raise ValueError(f"{uri!r} is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>)")
    account, region = parts[0], parts[3]
    repository = path.split("@")[0].rsplit(":", 1)[0]
    return f"arn:{partition}:ecr:{region}:{account}:repository/{repository}"


class ImageRepository(pulumi.ComponentResource):
    """A private ECR repository: immutable tags, scan on push, KMS encryption, lifecycle, cross-account pull."""

    repository: aws.ecr.Repository
    """The repository."""
    repository_url: pulumi.Output[str]
    """`<account>.dkr.ecr.<region>.amazonaws.com/<name>`."""
    arn: pulumi.Output[str]
    """Repository ARN."""
    pull_policy: aws.ecr.RepositoryPolicy | None
    """The consumer accounts' pull grant; None when there are none."""

    def __init__(self, name: str, args: ImageRepositoryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:images:ImageRepository", name, None, opts)
        if args.untagged_expiry_days < 1:
            raise pulumi.InputPropertyError("untagged_expiry_days", "must be at least 1 day")
        child = pulumi.ResourceOptions(parent=self)
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.repository_name,
            # A tag names one image forever: a digest pinned in prod cannot be shadowed by a re-push (ECR.2).
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.kms_key_arn)
            ],
            # Deleting a repository that still holds images needs intent, not a stray `pulumi destroy`.
            force_delete=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle", repository=self.repository.name,
            policy=json.dumps(lifecycle_policy(args.untagged_expiry_days)), opts=child)
        self.pull_policy = (
            aws.ecr.RepositoryPolicy(
                f"{name}-pull-policy", repository=self.repository.name,
                policy=json.dumps(pull_policy(args.consumer_account_ids)), opts=child)
            if args.consumer_account_ids else None
        )
        self.repository_url = self.repository.repository_url
        self.arn = self.repository.arn
        self.register_outputs({"repository_url": self.repository_url, "arn": self.arn})
