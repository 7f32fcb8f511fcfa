"""Several models per stack: each its own endpoint, alarms and scaling, with unique names within AWS limits;
and `mlops diff` of a pinned-version change touches only that model."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from mlops.cli import app
from mlops.plan import Plan, plan_config, program_path, read_stack_config
from mlops.plan._diff import diff_plans

from .conftest import (
    ALARM,
    COMPONENT,
    CONFIG,
    ENDPOINT,
    MODEL,
    PROJECT_DIR,
    ROLE,
    TARGET,
    component_of,
    of_type,
    one,
    plan_with,
    refused,
    stack_models,
    under,
)

NAMES = ("fraud-detector", "churn", "credit-limit-recommender-v2")
ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-{name}/{version}"


def _models(stack: str, names: tuple[str, ...] = NAMES) -> list[dict[str, Any]]:
    base = stack_models(stack)[0]
    models = []
    for name in names:
        model = copy.deepcopy(base)
        model["name"] = name
        if "modelPackageArn" in model:
            model["modelPackageArn"] = ARN.format(name=name, version=3)
        models.append(model)
    return models


@pytest.fixture(scope="module")
def prod_many() -> Plan:
    return plan_with("prod", {"mlops:models": _models("prod")})


def test_each_model_gets_its_own_endpoint_with_the_fixed_name(prod_many: Plan) -> None:
    assert sorted(r.name for r in prod_many.of_type(COMPONENT)) == sorted(f"mlops-prod-{n}" for n in NAMES)
    assert prod_many.outputs["endpoints"] == {n: f"mlops-prod-{n}" for n in NAMES}
    for name in NAMES:
        inside = under(prod_many, component_of(prod_many, f"mlops-prod-{name}"))
        assert [len(of_type(inside, t)) for t in (MODEL, CONFIG, ENDPOINT, ALARM, TARGET)] == [1, 1, 1, 2, 1]
        assert one(inside, ENDPOINT).inputs["name"] == f"mlops-prod-{name}"
        for alarm in of_type(inside, ALARM):
            assert alarm.inputs["dimensions"]["EndpointName"] == f"mlops-prod-{name}"
        model = one(inside, MODEL).inputs["primaryContainer"]["modelPackageName"]
        assert model == ARN.format(name=name, version=3)


def test_names_are_unique_and_within_aws_limits(prod_many: Plan) -> None:
    urns = [r.urn for r in prod_many.resources]
    assert len(urns) == len(set(urns))
    fixed = {
        "endpoint": [r.inputs["name"] for r in prod_many.of_type(ENDPOINT)],
        "alarm": [r.inputs["name"] for r in prod_many.of_type(ALARM)],
    }
    for kind, names in fixed.items():
        assert len(names) == len(set(names)), f"duplicate {kind} names: {names}"
    assert all(len(n) <= 63 for n in fixed["endpoint"])
    assert all(len(n) <= 255 for n in fixed["alarm"])
    # Auto-named: "<logical name>-<7 hex>".
    assert all(len(r.name) + 8 <= 63 for r in prod_many.of_type(MODEL) + prod_many.of_type(CONFIG))
    assert all(len(r.name) + 8 <= 64 for r in prod_many.of_type(ROLE))
    targets = [r.inputs["resourceId"] for r in prod_many.of_type(TARGET)]
    assert sorted(targets) == sorted(f"endpoint/mlops-prod-{n}/variant/AllTraffic" for n in NAMES)


def test_models_may_mix_serverless_and_instance_endpoints_in_dev() -> None:
    models = _models("dev", ("fraud-detector", "churn"))
    models[1]["endpoint"] = {"mode": "instance", "instanceType": "ml.m5.large", "minInstances": 1,
                             "maxInstances": 2, "deployment": {"strategy": "all_at_once", "waitSeconds": 0}}
    plan = plan_with("dev", {"mlops:models": models})
    serverless = under(plan, component_of(plan, "mlops-dev-fraud-detector"))
    instance = under(plan, component_of(plan, "mlops-dev-churn"))
    assert not of_type(serverless, TARGET) and len(of_type(instance, TARGET)) == 1
    assert one(instance, CONFIG).inputs["dataCaptureConfig"]["initialSamplingPercentage"] == 20  # the default
    routing = one(instance, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert routing["trafficRoutingConfiguration"] == {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": 0}


def test_duplicate_model_names_are_refused() -> None:
    message = refused("prod", {"mlops:models": _models("prod", ("churn", "churn"))})
    assert "mlops:models[1].name: 'churn' is used twice; names must be unique" in message


# -- mlops diff ------------------------------------------------------------------------------------------------


def _write_stack_file(directory: Path, models: list[dict[str, Any]]) -> Path:
    """A copy of the prod stack file with `mlops:models` replaced, comments and all else kept."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "Pulumi.prod.yaml"
    shutil.copy(PROJECT_DIR / "stacks/Pulumi.prod.yaml", path)
    yaml = YAML()
    document = yaml.load(path.read_text())
    document["config"]["mlops:models"] = models
    with path.open("w") as handle:
        yaml.dump(document, handle)
    return path


def _plan_file(path: Path) -> Plan:
    return plan_config(read_stack_config(PROJECT_DIR, "prod", path), program_path(PROJECT_DIR))


def test_changing_one_models_pinned_version_changes_only_that_models_resources(tmp_path: Path) -> None:
    before = _models("prod", ("fraud-detector", "churn"))
    after = copy.deepcopy(before)
    after[1]["modelPackageArn"] = ARN.format(name="churn", version=4)
    result = diff_plans(_plan_file(_write_stack_file(tmp_path / "a", before)),
                        _plan_file(_write_stack_file(tmp_path / "b", after)))
    assert not result.only_in_a and not result.only_in_b
    assert list(result.changed) == [
        "urn:pulumi:<stack>::mlops::mlops:serving:ModelEndpoint$aws:sagemaker/model:Model::mlops-<stack>-churn-model"
    ]
    (change,) = next(iter(result.changed.values()))
    assert change.path == "primaryContainer.modelPackageName"
    assert (change.before, change.after) == (ARN.format(name="churn", version=3), ARN.format(name="churn", version=4))


def test_mlops_diff_of_a_promoted_version_against_the_committed_prod_stack(tmp_path: Path) -> None:
    models = stack_models("prod")
    models[0]["modelPackageArn"] = ARN.format(name="fraud-detector", version=4)
    path = _write_stack_file(tmp_path, models)
    result = CliRunner().invoke(app, ["diff", "prod", str(path), "--json", str(tmp_path / "diff.json"),
                                      "--project-dir", str(PROJECT_DIR)])
    assert result.exit_code == 0, result.output
    assert "0 only in prod, 0 only in prod, 1 changed" in result.output
    assert "primaryContainer.modelPackageName" in result.output
    diff = json.loads((tmp_path / "diff.json").read_text())
    (urn,) = diff["changed"]
    assert urn.endswith("aws:sagemaker/model:Model::mlops-<stack>-fraud-detector-model")
