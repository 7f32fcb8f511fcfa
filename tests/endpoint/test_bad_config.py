"""Bad serving settings: each gives one clear message naming the config key, the value and the fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from mlops.settings import Environment, ModelSettings
from mlops.settings._endpoint import model_endpoint_problems

from .conftest import PROJECT_DIR, refused, stack_models, with_endpoint

E = "mlops:models[0].endpoint"
PROD_NETWORK = {
    "subnets": [{"id": "subnet-0d7b9c4f5e6a78b11", "availabilityZone": "us-east-1a"},
                {"id": "subnet-0e8cad5a6f7b89c12", "availabilityZone": "us-east-1b"}],
    "securityGroupIds": ["sg-01aecf7c8b9dab014"],
}


def _models_with_arn(stack: str, arn: str) -> list[dict[str, Any]]:
    models = stack_models(stack)
    models[0]["modelPackageArn"] = arn
    return models


CASES: list[tuple[str, str, dict[str, Any], str]] = [
    # (id, stack, overrides, expected message fragment)
    ("prod-one-instance", "prod", {"mlops:models": with_endpoint("prod", minInstances=1)},
     f"{E}.minInstances: prod needs at least two instances across two availability zones so the endpoint "
     "survives an instance or zone failure (SageMaker.4); got 1"),
    ("prod-one-zone", "prod",
     {"mlops:network": {**PROD_NETWORK, "subnets": [{"id": "subnet-0d7b9c4f5e6a78b11",
                                                      "availabilityZone": "us-east-1a"}]}},
     "mlops:network.subnets: prod needs subnets in at least 2 availability zones so its endpoint instances "
     "survive the loss of one; found 1 (us-east-1a); add a private subnet in another zone"),
    ("prod-two-subnets-same-zone", "prod",
     {"mlops:network": {**PROD_NETWORK, "subnets": [
         {"id": "subnet-0d7b9c4f5e6a78b11", "availabilityZone": "us-east-1a"},
         {"id": "subnet-0e8cad5a6f7b89c12", "availabilityZone": "us-east-1a"}]}},
     "prod needs subnets in at least 2 availability zones"),
    ("staging-no-network", "staging", {"mlops:network": {}},
     "mlops:network.subnets: required but not set"),
    ("min-above-max", "staging", {"mlops:models": with_endpoint("staging", minInstances=5, maxInstances=3)},
     f"{E}.minInstances: 5 is more than maxInstances 3; min must be <= max"),
    ("serverless-with-instance-settings", "dev",
     {"mlops:models": with_endpoint("dev", instanceType="ml.m5.large", minInstances=2)},
     f"{E}.instanceType: applies to instance endpoints only, but mode is serverless; remove it or change mode"),
    ("instance-with-serverless-settings", "staging",
     {"mlops:models": with_endpoint("staging", memoryMb=2048)},
     f"{E}.memoryMb: applies to serverless endpoints only, but mode is instance; remove it or change mode"),
    ("canary-too-big", "prod",
     {"mlops:models": with_endpoint("prod", deployment={"strategy": "canary", "canaryPercent": 60})},
     f"{E}.deployment.canaryPercent: canary size must be 1-50 percent of the variant's capacity "
     "(SageMaker's limit) (got 60)"),
    ("canary-zero", "prod",
     {"mlops:models": with_endpoint("prod", deployment={"strategy": "canary", "canaryPercent": 0})},
     f"{E}.deployment.canaryPercent: canary size must be 1-50 percent"),
    ("serverless-capture", "dev", {"mlops:models": with_endpoint("dev", dataCapturePercent=20)},
     f"{E}.dataCapturePercent: serverless endpoints cannot capture data (SageMaker); remove it or use "
     "mode: instance"),
    ("prod-serverless", "prod",
     {"mlops:models": [{**stack_models("prod")[0], "endpoint": {"mode": "serverless"}}]},
     f"{E}.mode: prod serves from instances (mode: instance)"),
    ("prod-all-at-once", "prod",
     {"mlops:models": with_endpoint("prod", deployment={"strategy": "all_at_once"})},
     f"{E}.deployment.strategy: prod shifts traffic gradually; use canary or linear"),
    ("prod-no-capture", "prod", {"mlops:models": with_endpoint("prod", dataCapturePercent=0)},
     f"{E}.dataCapturePercent: prod must capture requests for monitoring; set 1-100"),
    ("baking-too-long", "staging",
     {"mlops:models": with_endpoint("staging", deployment={"strategy": "linear", "linearStepPercent": 10,
                                                            "waitSeconds": 600, "timeoutSeconds": 14400})},
     f"{E}.deployment: the baking periods add up to 6300 s"),
    ("timeout-below-baking", "staging",
     {"mlops:models": with_endpoint("staging", deployment={"waitSeconds": 600, "terminationWaitSeconds": 600,
                                                            "timeoutSeconds": 900})},
     f"{E}.deployment.timeoutSeconds: 900 s leaves no time to deploy after 1200 s of baking"),
    ("linear-size-with-canary", "staging",
     {"mlops:models": with_endpoint("staging", deployment={"strategy": "canary", "linearStepPercent": 20})},
     f"{E}.deployment.linearStepPercent: applies to the linear strategy, not canary"),
    ("zone-of-other-region", "prod",
     {"mlops:network": {**PROD_NETWORK, "subnets": [
         {"id": "subnet-0d7b9c4f5e6a78b11", "availabilityZone": "us-east-1a"},
         {"id": "subnet-0e8cad5a6f7b89c12", "availabilityZone": "eu-west-1b"}]}},
     "mlops:network.subnets[1].availabilityZone: 'eu-west-1b' is not a zone of the stack's region us-east-1"),
    ("bad-subnet-id", "staging",
     {"mlops:network": {**PROD_NETWORK, "subnets": [{"id": "subnet-XYZ", "availabilityZone": "us-east-1a"}]}},
     "mlops:network.subnets[0].id: String should match pattern"),
    ("bad-security-group", "staging", {"mlops:network": {**PROD_NETWORK, "securityGroupIds": ["default"]}},
     "mlops:network.securityGroupIds[0]: String should match pattern"),
    ("typo", "staging", {"mlops:models": with_endpoint("staging", minInstance=2)},
     f"{E}.minInstance: unknown key (a typo?)"),
    ("bad-memory", "dev", {"mlops:models": with_endpoint("dev", memoryMb=1500)},
     f"{E}.memoryMb: Input should be a multiple of 1024 (got 1500)"),
    ("bad-retention", "dev", {"mlops:models": with_endpoint("dev", logRetentionDays=10)},
     f"{E}.logRetentionDays: CloudWatch Logs accepts only (1, 3, 5, 7, 14, 30,"),
    ("package-of-another-region", "prod",
     {"mlops:models": _models_with_arn("prod", "arn:aws:sagemaker:eu-west-1:111111111111:model-package/"
                                                "mlops-dev-fraud-detector/3")},
     "mlops:models[0].modelPackageArn: the version is registered in eu-west-1, but SageMaker serves model "
     "packages only in their own region (us-east-1)"),
    ("package-group-of-another-model", "prod",
     {"mlops:models": _models_with_arn("prod", "arn:aws:sagemaker:us-east-1:111111111111:model-package/"
                                                "mlops-dev-churn/3")},
     "mlops:models[0].modelPackageArn: the model package group must be named '<project>-<stack>-fraud-detector'"),
    ("bootstrap-without-digest", "dev", {"mlops:image": {"repository": "mlops-model"}},
     "mlops:image.digest: model 'fraud-detector' has no modelPackageArn, so it is served from the stack's image, "
     "which is pinned by digest"),
]


@pytest.mark.parametrize(("stack", "overrides", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_serving_config_is_refused_with_a_clear_message(stack: str, overrides: dict[str, Any],
                                                          expected: str) -> None:
    message = refused(stack, overrides)
    assert expected in message
    assert message.startswith(f"stack '{stack}' has ")
    assert "Traceback" not in message


def test_every_problem_is_listed_at_once() -> None:
    message = refused("prod", {
        "mlops:models": with_endpoint("prod", minInstances=1, dataCapturePercent=0,
                                      deployment={"strategy": "all_at_once"}),
        "mlops:network": {**PROD_NETWORK, "subnets": PROD_NETWORK["subnets"][:1]},
    })
    assert "has 4 configuration problem(s)" in message
    for key in (f"{E}.minInstances", f"{E}.dataCapturePercent", f"{E}.deployment.strategy", "mlops:network.subnets"):
        assert f"  - {key}:" in message


def test_staging_without_a_network_section_says_what_to_set() -> None:
    config = YAML(typ="safe").load((PROJECT_DIR / "stacks/Pulumi.staging.yaml").read_text())
    assert "mlops:network" in config["config"]  # the committed file has it; the override below drops it
    message = refused("staging", {}, without=("mlops:network",))
    assert ("mlops:network: staging serves models inside a VPC; set subnets (id and availabilityZone of each "
            "private subnet) and securityGroupIds of the VPC to adopt") in message


def test_the_cli_reports_a_bad_stack_file_without_a_traceback_and_writes_nothing(tmp_path: Path) -> None:
    yaml = YAML()
    path = tmp_path / "Pulumi.prod.yaml"
    shutil.copy(PROJECT_DIR / "stacks/Pulumi.prod.yaml", path)
    document = yaml.load(path.read_text())
    document["config"]["mlops:models"][0]["endpoint"]["minInstances"] = 1
    with path.open("w") as handle:
        yaml.dump(document, handle)
    out = tmp_path / "plan.json"
    result = subprocess.run(
        [sys.executable, "-m", "mlops.cli", "plan", "--stack", str(path), "--json", str(out)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: stack 'prod' has 1 configuration problem(s):")
    assert f"{E}.minInstances: prod needs at least two instances" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(("model_name", "problem"), [
    ("fraud-detectors", None),  # "mlops-feature-fraud-model-branch-fraud-detectors": 48 + 15 = 63
    ("fraud-detectors2", "would be 64 characters"),
])
def test_the_endpoint_name_rule_stops_where_auto_named_children_would_pass_63(model_name: str,
                                                                           problem: str | None) -> None:
    model = ModelSettings(name=model_name)
    resource_name = f"mlops-feature-fraud-model-branch-{model_name}"
    problems = [p for p in model_endpoint_problems(0, model, resource_name, Environment.DEV, "us-east-1", True)
                if p.startswith("mlops:models[0].name")]
    assert problems == ([] if problem is None else [
        f"mlops:models[0].name: the endpoint's auto-named SageMaker resources {problem} "
        f"('{resource_name}-config-xxxxxxx'; SageMaker allows 63); shorten the model name by 1"
    ])


def test_a_model_name_too_long_for_the_endpoint_is_refused_by_the_plan() -> None:
    models = [{**stack_models("dev")[0], "name": "fraud-detector-v2"}]  # 50 + 15 = 65
    message = refused("dev", {"mlops:models": models}, stack_name="feature-fraud-model-branch")
    assert ("mlops:models[0].name: the endpoint's auto-named SageMaker resources would be 65 characters "
            "('mlops-feature-fraud-model-branch-fraud-detector-v2-config-xxxxxxx'; SageMaker allows 63); shorten "
            "the model name by 2") in message
