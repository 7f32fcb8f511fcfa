"""TrainingPipeline and ImageRepository as components, under the recording mocks with plain inputs: the
content-addressed code upload, optional children that are honestly absent, argument validation, and the image
repository's protections; plus their pure helpers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from components import ImageRepository, ImageRepositoryArgs, TrainingPipeline, TrainingPipelineArgs
from components._code_asset import CodeDirectoryError, code_files, code_sha256
from components.image_repository import image_uri, lifecycle_policy, pull_policy, repository_arn_of
from mlops.plan import Plan, PlanError, run_program

from .conftest import (
    GROUP,
    GROUP_POLICY,
    LIFECYCLE,
    OBJECT,
    PIPELINE,
    PROJECT_DIR,
    QUEUE_POLICY,
    REPOSITORY,
    REPOSITORY_POLICY,
    RULE,
    SCHEDULE,
    definition,
    one,
    plan_with,
    stack_config,
    steps,
)

KEY = "arn:aws:kms:eu-west-1:444455556666:key/1111"
IMAGE = "444455556666.dkr.ecr.eu-west-1.amazonaws.com/mlops-model@sha256:" + "b" * 64


def _pipeline(code_dir: Path, **changes: Any) -> Plan:
    def program() -> None:
        args = dict(
            pipeline_name="mlops-unit-churn", model_name="churn", account_id="444455556666", region="eu-west-1",
            kms_key_arn=KEY, raw_bucket_name="raw-b", curated_bucket_name="curated-b",
            artifacts_bucket_name="artifacts-b", image_uri=IMAGE, code_dir=str(code_dir),
            evaluation_threshold=0.7,
        )
        TrainingPipeline("mlops-unit-churn", TrainingPipelineArgs(**{**args, **changes}))

    return run_program(program, "mlops", "unit", {"aws:region": "eu-west-1", "mlops:accountId": "444455556666"})


@pytest.fixture()
def code_dir(tmp_path: Path) -> Path:
    target = tmp_path / "model_code"
    shutil.copytree(PROJECT_DIR / "model_code", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _code_keys(plan: Plan) -> dict[str, str]:
    return {o.name: o.inputs["key"] for o in plan.of_type(OBJECT)}


def test_unchanged_code_gives_the_same_objects_and_changed_code_new_ones(code_dir: Path) -> None:
    first, again = _code_keys(_pipeline(code_dir)), _code_keys(_pipeline(code_dir))
    assert first == again
    (code_dir / "train.py").write_text((code_dir / "train.py").read_text() + "\n# tuned\n")
    changed_plan = _pipeline(code_dir)
    changed = _code_keys(changed_plan)
    assert changed.keys() == first.keys()  # same resources, keyed by file...
    assert set(changed.values()).isdisjoint(first.values())  # ...every one a new object under the new hash
    new_hash = next(iter(changed.values())).split("/")[2]
    assert new_hash == code_sha256(code_files(code_dir))
    code = next(i for i in steps(changed_plan)["Preprocess"]["Arguments"]["ProcessingInputs"]
                if i["InputName"] == "code")
    assert code["S3Input"]["S3Uri"] == f"s3://artifacts-b/code/churn/{new_hash}/"


def test_code_objects_are_encrypted_and_outlive_the_stack_that_replaced_them(code_dir: Path) -> None:
    plan = _pipeline(code_dir)
    objects = plan.of_type(OBJECT)
    assert {o.inputs["key"].split("/model_code/")[1] for o in objects} == {
        p.relative_to(code_dir).as_posix() for p in code_dir.rglob("*.py")}
    for o in objects:
        assert (o.inputs["bucket"], o.inputs["serverSideEncryption"], o.inputs["kmsKeyId"]) == (
            "artifacts-b", "aws:kms", KEY)
        assert o.retain_on_delete is True  # running executions and registered versions still read them
        assert o.inputs["source"] == {"asset": "file", "path": str(code_dir / o.inputs["key"].split("/model_code/")[1])}


def test_optional_children_are_absent_when_switched_off(code_dir: Path) -> None:
    plan = _pipeline(code_dir, retrain_on_new_data=False, retrain_on_drift=False)
    assert plan.of_type(RULE) == [] and plan.of_type(QUEUE_POLICY) == []
    assert plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []  # no alarm topic given
    assert plan.of_type(SCHEDULE) == [] and plan.of_type(GROUP_POLICY) == []
    scheduled = _pipeline(code_dir, schedule="rate(7 days)", consumer_account_ids=["777788889999"])
    assert one(scheduled.of_type(SCHEDULE)).inputs["scheduleExpression"] == "rate(7 days)"
    policy = json.loads(one(scheduled.of_type(GROUP_POLICY)).inputs["resourcePolicy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": ["arn:aws:iam::777788889999:root"]}


def test_the_region_and_pinned_image_reach_every_step(code_dir: Path) -> None:
    found = steps(_pipeline(code_dir))
    assert found["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert "eu-west-1" in json.dumps(definition(_pipeline(code_dir)))


@pytest.mark.parametrize(("changes", "problem"), [
    ({"evaluation_threshold": 1.5}, "evaluation_threshold"),
    ({"spot_max_wait_minutes": 10, "max_runtime_minutes": 60}, "spot_max_wait_minutes"),
    ({"subnet_ids": ["subnet-1"]}, "subnet_ids"),
    ({"debounce_minutes": 60, "max_delay_minutes": 30}, "max_delay_minutes"),
])
def test_invalid_arguments_are_refused_before_anything_is_created(
    code_dir: Path, changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(PlanError) as caught:
        _pipeline(code_dir, **changes)
    message = str(caught.value)
    assert "TrainingPipeline mlops-unit-churn: invalid arguments" in message
    assert [line.split(":")[0].strip(" -") for line in message.splitlines()[1:]] == [problem]


def test_a_directory_that_is_not_the_model_package_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model_code").mkdir()
    (tmp_path / "model_code" / "__init__.py").write_text("")
    with pytest.raises(PlanError) as caught:
        _pipeline(tmp_path / "model_code")
    assert "  - code_dir: " in str(caught.value) and "needs __init__.py and __main__.py" in str(caught.value)


def test_the_pipeline_of_a_component_carries_its_names(code_dir: Path) -> None:
    plan = _pipeline(code_dir)
    assert one(plan.of_type(PIPELINE)).inputs["pipelineName"] == "mlops-unit-churn"
    assert steps(plan)["RegisterModel"]["Arguments"]["ModelApprovalStatus"] == "PendingManualApproval"


# --- code asset helpers -------------------------------------------------------------------------------------------
def test_the_code_hash_ignores_caches_and_timestamps_but_not_content(code_dir: Path) -> None:
    before = code_sha256(code_files(code_dir))
    (code_dir / "__pycache__").mkdir(exist_ok=True)
    (code_dir / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")
    (code_dir / "notes.txt").write_text("not code")
    (code_dir / "train.py").touch()
    assert code_sha256(code_files(code_dir)) == before
    (code_dir / "extra.py").write_text("")
    assert code_sha256(code_files(code_dir)) != before
    assert list(code_files(code_dir)) == sorted(code_files(code_dir))
    assert all(k.startswith("model_code/") for k in code_files(code_dir))


def test_a_renamed_file_changes_the_hash(code_dir: Path) -> None:
    before = code_sha256(code_files(code_dir))
    (code_dir / "data.py").rename(code_dir / "data2.py")
    assert code_sha256(code_files(code_dir)) != before


def test_code_files_refuses_a_non_package(tmp_path: Path) -> None:
    with pytest.raises(CodeDirectoryError, match="not a runnable package"):
        code_files(tmp_path)


# --- image repository ---------------------------------------------------------------------------------------------
def _repository(**changes: Any) -> Plan:
    def program() -> None:
        args = {"repository_name": "mlops-model", "kms_key_arn": KEY, **changes}
        ImageRepository("mlops-unit-images", ImageRepositoryArgs(**args))

    return run_program(program, "mlops", "unit", {"aws:region": "eu-west-1", "mlops:accountId": "444455556666"})


def test_the_repository_is_immutable_scanned_encrypted_and_kept() -> None:
    plan = _repository(protect=True, consumer_account_ids=["222222222222"], untagged_expiry_days=7)
    repository = one(plan.of_type(REPOSITORY))
    assert repository.inputs == {
        "name": "mlops-model",
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}],
        "forceDelete": False,
    }
    assert (repository.protect, repository.retain_on_delete) == (True, True)
    assert json.loads(one(plan.of_type(LIFECYCLE)).inputs["policy"]) == lifecycle_policy(7)
    assert json.loads(one(plan.of_type(REPOSITORY_POLICY)).inputs["policy"]) == pull_policy(["222222222222"])


def test_without_consumers_there_is_no_repository_policy() -> None:
    plan = _repository()
    assert plan.of_type(REPOSITORY_POLICY) == []
    assert one(plan.of_type(REPOSITORY)).protect is False


def test_the_lifecycle_expires_untagged_images_only() -> None:
    (rule,) = lifecycle_policy(14)["rules"]
    assert rule["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                 "countNumber": 14}
    assert rule["action"] == {"type": "expire"}


def test_consumers_may_pull_but_not_push() -> None:
    (statement,) = pull_policy(["222222222222", "333333333333"])["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]}
    assert statement["Action"] == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert statement["Effect"] == "Allow" and "Resource" not in statement  # a repository policy's own resource


@pytest.mark.parametrize(("uri", "arn"), [
    ("111111111111.dkr.ecr.us-east-1.amazonaws.com/mlops-model@sha256:" + "a" * 64,
     "arn:aws:ecr:us-east-1:111111111111:repository/mlops-model"),
    ("111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/model:1.2.3",
     "arn:aws:ecr:eu-west-1:111111111111:repository/team/model"),
    ("111111111111.dkr.ecr.us-east-1.amazonaws.com/plain", "arn:aws:ecr:us-east-1:111111111111:repository/plain"),
])
def test_repository_arn_of(uri: str, arn: str) -> None:
    assert repository_arn_of(uri) == arn


def test_repository_arn_of_refuses_other_registries() -> None:
    with pytest.raises(ValueError, match="not an ECR image URI"):
        repository_arn_of("docker.io/library/python:3.11")


def test_image_uri() -> None:
    assert image_uri("1", "eu-west-1", "repo", "sha256:x") == "1.dkr.ecr.eu-west-1.amazonaws.com/repo@sha256:x"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_only_the_registry_account_creates_the_repository(plans: dict[str, Plan], stack: str) -> None:
    repositories = plans[stack].of_type(REPOSITORY)
    if stack == "dev":
        repository = one(repositories)
        assert repository.inputs["name"] == "mlops-model"
        assert repository.inputs["encryptionConfigurations"][0]["kmsKey"] == plans["dev"].outputs["dataKeyArn"]
        assert json.loads(one(plans["dev"].of_type(REPOSITORY_POLICY)).inputs["policy"]) == pull_policy(
            ["222222222222", "333333333333"])
        assert plans["dev"].outputs["imageRepositoryUrl"] == (
            "111111111111.dkr.ecr.us-east-1.amazonaws.com/mlops-model")
    else:  # staging and prod pull dev's image by digest
        assert repositories == []
        assert plans[stack].outputs["imageRepositoryUrl"] is None


def test_training_pipelines_are_exported(plans: dict[str, Plan]) -> None:
    exported = plans["prod"].outputs["trainingPipelines"]["fraud-detector"]
    assert exported["pipelineArn"] == "arn:aws:sagemaker:us-east-1:333333333333:pipeline/mlops-prod-fraud-detector"
    assert exported["modelPackageGroupArn"] == (
        "arn:aws:sagemaker:us-east-1:333333333333:model-package-group/mlops-prod-fraud-detector")
    assert exported["retrainFunctionArn"] == (
        "arn:aws:lambda:us-east-1:333333333333:function:mlops-prod-fraud-detector-retrain")
    assert exported["codeUri"].startswith(f"s3://{plans['prod'].outputs['buckets']['artifacts']}/code/fraud-detector/")


def test_the_component_module_imports_no_tooling() -> None:
    # Tooling imports components, never the other way round (STYLE.md).
    mine = ("training_pipeline.py", "image_repository.py", "_pipeline_definition.py", "_sagemaker_offline.py",
            "_training_policies.py", "_code_asset.py", "_retrain_trigger.py", "_retrain_debounce.py")
    for path in (PROJECT_DIR / "components" / name for name in mine):
        assert "from mlops" not in path.read_text() and "import mlops" not in path.read_text(), path.name


def test_without_an_image_digest_the_stack_has_a_repository_but_no_pipeline_yet() -> None:
    dev = stack_config("dev")
    model = {**dev["mlops:models"][0],
             "modelPackageArn": "arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-fraud-detector/1"}
    plan = plan_with("dev", {"mlops:image": {"repository": "mlops-model"}, "mlops:models": [model]})
    assert plan.of_type(PIPELINE) == [] and plan.of_type(GROUP) == []
    assert one(plan.of_type(REPOSITORY)).inputs["name"] == "mlops-model"
    assert plan.outputs["trainingPipelines"] == {}
