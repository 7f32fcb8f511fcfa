"""Fixtures of the integration tests: one moto server on 127.0.0.1 (real HTTP) for the whole session, reset
before each test, and a throwaway copy of the project's stack files.

boto3 reaches moto through `AWS_ENDPOINT_URL`, exactly as the commands run in CI; nothing is patched in-process.
moto keeps one backend per account, chosen here by `MOTO_ACCOUNT_ID`: every call lands in the registry account
(111111111111), so cross-account reads (staging's role describing dev's registry) are not exercised by moto.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner, Result

from mlops.cli import app
from tests._project import PROJECT_DIR, moto_server

REGISTRY_ACCOUNT = "111111111111"
REGION = "us-east-1"
GROUP = "mlops-dev-fraud-detector"
REPOSITORY = "mlops-model"
# The digest every stack file of the repository pins today.
PINNED_DIGEST = "sha256:61554cdfc101becbf1b2b4a7c9254bfe275081a086c5c6e435f3ef0d5da7eb6c"


def digest(n: int) -> str:
    """A well-formed image digest, distinct for each n."""
    return "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()


def package_arn(version: int, group: str = GROUP) -> str:
    """The ARN moto gives version N of a group in the registry account."""
    return f"arn:aws:sagemaker:{REGION}:{REGISTRY_ACCOUNT}:model-package/{group}/{version}"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@dataclass
class Aws:
    """The moto server and helpers that put the registry, images and endpoints in place."""

    endpoint: str

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # AWS_ENDPOINT_URL routes it to moto

    def register(self, *statuses: str, group: str = GROUP, metrics: list[dict[str, float]] | None = None) -> list[str]:
        """Create the group if needed and register one version per approval status; returns their ARNs."""
        sagemaker, s3 = self.client("sagemaker"), self.client("s3")
        groups = sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
        if group not in {g["ModelPackageGroupName"] for g in groups}:
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
            s3.create_bucket(Bucket="mlops-dev-artifacts")
        arns = []
        for index, status in enumerate(statuses):
            extra: dict[str, Any] = {}
            if metrics is not None:
                key = f"evaluation/{group}/{len(arns)}-{index}.json"
                report = {"binary_classification_metrics": {k: {"value": v} for k, v in metrics[index].items()}}
                s3.put_object(Bucket="mlops-dev-artifacts", Key=key, Body=json.dumps(report).encode())
                uri = f"s3://mlops-dev-artifacts/{key}"
                extra["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                                         "S3Uri": uri}}}
            arns.append(sagemaker.create_model_package(
                ModelPackageGroupName=group, ModelApprovalStatus=status, **extra,
                InferenceSpecification={
                    "Containers": [{"Image": f"{REGISTRY_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}"}],
                    "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["application/json"],
                },
            )["ModelPackageArn"])  # fmt: skip
        return arns

    def push_image(self, image_digest: str, repository: str = REPOSITORY) -> None:
        """Put an image with exactly this digest in the registry account's repository."""
        ecr = self.client("ecr")
        if repository not in {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}:
            ecr.create_repository(repositoryName=repository)
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"digest": image_digest}, "layers": []}
        ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=image_digest[7:19],
                      imageDigest=image_digest)

    def create_endpoint(self, name: str) -> None:
        """An InService endpoint (moto puts endpoints InService at once)."""
        sagemaker = self.client("sagemaker")
        sagemaker.create_model(
            ModelName=f"{name}-model",
            ExecutionRoleArn=f"arn:aws:iam::{REGISTRY_ACCOUNT}:role/sagemaker",
            PrimaryContainer={"Image": f"{REGISTRY_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}"},
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{name}-config",
            ProductionVariants=[{"VariantName": "primary", "ModelName": f"{name}-model",
                                 "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")

    def queue_answers(self, *answers: dict[str, Any]) -> None:
        """What the next InvokeEndpoint calls return (moto's documented results queue; otherwise it answers
        a canned "body")."""
        results = [{"Body": json.dumps(a), "ContentType": "application/json", "InvokedProductionVariant": "primary",
                    "CustomAttributes": ""} for a in answers]
        payload = {"account_id": REGISTRY_ACCOUNT, "region": REGION, "results": results}
        self._post("/moto-api/static/sagemaker/endpoint-results", payload)

    def approval(self, arn: str) -> tuple[str, str]:
        """(ModelApprovalStatus, ApprovalDescription) the registry holds."""
        described = self.client("sagemaker").describe_model_package(ModelPackageName=arn)
        return described["ModelApprovalStatus"], described.get("ApprovalDescription", "")

    def _post(self, path: str, payload: dict[str, Any] | None = None) -> None:
        data = json.dumps(payload or {}).encode()
        request = urllib.request.Request(self.endpoint + path, data=data, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status in (200, 201)


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    """A freshly reset moto and an environment whose boto3 talks only to it, with fake credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", REGISTRY_ACCOUNT)
    # Nothing from the machine's own AWS configuration may leak into a test.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    aws = Aws(moto_endpoint)
    aws._post("/moto-api/reset")
    return aws


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's Pulumi.yaml and stack files; commands run against it with --project-dir."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", root / "Pulumi.yaml")
    for stack_file in (PROJECT_DIR / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, root / "stacks" / stack_file.name)
    return root


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    """A small CSV request (header + 2 rows) in the model's feature schema."""
    path = tmp_path / "sample.csv"
    path.write_text(
        "amount,hour_of_day,day_of_week,merchant_category,channel\n"
        "30.74,9,3,entertainment,chip\n"
        "18.73,16,3,online_retail,online\n",
        encoding="utf-8",
    )
    return path


def changed_lines(before: str | bytes, after: str | bytes) -> list[str]:
    """The lines a diff removes or adds, prefixed - / + (bytes are decoded as UTF-8)."""
    old = before.decode() if isinstance(before, bytes) else before
    new = after.decode() if isinstance(after, bytes) else after
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under a directory (relative path -> bytes), to prove a refused command touched nothing."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def run(project_dir: Path, *args: str) -> Result:
    """Run the `mlops` CLI in-process (its boto3 calls still go over HTTP to moto)."""
    return CliRunner().invoke(app, [*args, "--project-dir", str(project_dir)], env={"COLUMNS": "250"})
