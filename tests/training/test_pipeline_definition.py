"""The pipeline each stack declares, read from the offline plan's JSON: the step graph, the quality gate wired
to the configured threshold, registration with metrics, images for the region, and S3 locations inside the
stack's own buckets. What this cannot prove: that SageMaker runs it (no pipeline service offline); the step
arguments are checked against the SageMaker API's request shapes instead (test_step_arguments_...)."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components._pipeline_definition import ROC_AUC_PATH, pipeline_definition
from mlops.plan import Plan

from .conftest import (
    ACCOUNTS,
    GROUP,
    GROUP_POLICY,
    OBJECT,
    PIPELINE,
    REGION,
    STACKS,
    TRAINING,
    bucket_names,
    definition,
    key_arn,
    named,
    one,
    plan_with,
    stack_config,
    steps,
    under,
    with_training,
)

DIGEST = "sha256:61554cdfc101becbf1b2b4a7c9254bfe275081a086c5c6e435f3ef0d5da7eb6c"
EXECUTION = {"Get": "Execution.PipelineExecutionId"}
THRESHOLDS = {"dev": 0.8, "staging": 0.85, "prod": 0.85}


def _get(step: str, path: str) -> dict[str, str]:
    return {"Get": f"Steps.{step}.{path}"}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _joins(value: Any) -> list[list[Any]]:
    """Every Std:Join's values, anywhere in the definition."""
    if isinstance(value, dict):
        found = [value["Std:Join"]["Values"]] if "Std:Join" in value else []
        return found + [j for v in value.values() for j in _joins(v)]
    if isinstance(value, list):
        return [j for v in value for j in _joins(v)]
    return []


@pytest.mark.parametrize("stack", STACKS)
def test_the_pipeline_has_the_five_kinds_of_steps_in_order(plans: dict[str, Plan], stack: str) -> None:
    top = [(s["Name"], s["Type"]) for s in definition(plans[stack])["Steps"]]
    assert top == [("Preprocess", "Processing"), ("Train", "Training"), ("Evaluate", "Processing"),
                   ("CheckRocAuc", "Condition")]
    check = steps(plans[stack])["CheckRocAuc"]["Arguments"]
    assert [(s["Name"], s["Type"]) for s in check["IfSteps"]] == [("RegisterModel", "RegisterModel")]
    assert [(s["Name"], s["Type"]) for s in check["ElseSteps"]] == [("RocAucBelowThreshold", "Fail")]
    pipeline = one(plans[stack].of_type(PIPELINE))
    assert pipeline.inputs["pipelineName"] == f"mlops-{stack}-fraud-detector"
    assert f"{TRAINING}$" in pipeline.urn


def test_each_step_consumes_the_previous_steps_outputs(plans: dict[str, Plan]) -> None:
    found = steps(plans["dev"])
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
                for c in found["Train"]["Arguments"]["InputDataConfig"]}
    for split in ("train", "validation"):
        assert channels[split] == _get("Preprocess", f"ProcessingOutputConfig.Outputs['{split}'].S3Output.S3Uri")
    inputs = {i["InputName"]: i["S3Input"] for i in found["Evaluate"]["Arguments"]["ProcessingInputs"]}
    assert inputs["model"]["S3Uri"] == _get("Train", "ModelArtifacts.S3ModelArtifacts")
    assert inputs["model"]["LocalPath"] == "/opt/ml/processing/model"
    assert inputs["test"]["S3Uri"] == _get("Preprocess", "ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri")
    assert inputs["test"]["LocalPath"] == "/opt/ml/processing/test"
    # evaluate.py writes /opt/ml/processing/evaluation/evaluation.json: the property file the gate reads.
    (output,) = found["Evaluate"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert (output["OutputName"], output["S3Output"]["LocalPath"]) == ("evaluation", "/opt/ml/processing/evaluation")
    assert found["Evaluate"]["PropertyFiles"] == [
        {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "evaluation.json"}]
    preprocess = found["Preprocess"]["Arguments"]
    assert [o["OutputName"] for o in preprocess["ProcessingOutputConfig"]["Outputs"]] == ["train", "validation", "test"]
    assert [o["S3Output"]["LocalPath"] for o in preprocess["ProcessingOutputConfig"]["Outputs"]] == [
        "/opt/ml/processing/train", "/opt/ml/processing/validation", "/opt/ml/processing/test"]
    raw = next(i for i in preprocess["ProcessingInputs"] if i["InputName"] == "raw")["S3Input"]
    assert (raw["S3Uri"], raw["LocalPath"]) == ({"Get": "Parameters.InputDataUri"}, "/opt/ml/processing/input")


@pytest.mark.parametrize("stack", STACKS)
def test_the_gate_compares_test_roc_auc_with_the_configured_threshold(plans: dict[str, Plan], stack: str) -> None:
    (condition,) = steps(plans[stack])["CheckRocAuc"]["Arguments"]["Conditions"]
    assert condition == {
        "Type": "GreaterThanOrEqualTo",
        "LeftValue": {"Std:JsonGet": {"PropertyFile": _get("Evaluate", "PropertyFiles.EvaluationReport"),
                                      "Path": "binary_classification_metrics.roc_auc.value"}},
        # A literal from the stack file, not a parameter an execution could override.
        "RightValue": THRESHOLDS[stack],
    }
    assert stack_config(stack)["mlops:models"][0]["training"]["evaluationThreshold"] == THRESHOLDS[stack]
    assert [p["Name"] for p in definition(plans[stack])["Parameters"]] == ["InputDataUri", "TriggeredBy"]


def test_a_changed_threshold_changes_the_gate_and_the_failure_message() -> None:
    plan = plan_with("dev", {"mlops:models": with_training("dev", evaluationThreshold=0.91)})
    found = steps(plan)
    assert found["CheckRocAuc"]["Arguments"]["Conditions"][0]["RightValue"] == 0.91
    message = found["RocAucBelowThreshold"]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert message[0] == (f"Model not registered: test ROC-AUC ({ROC_AUC_PATH} in evaluation.json) is below the "
                          "required 0.91. Report: ")
    assert message[1:] == [_get("Evaluate", "ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"),
                           "/evaluation.json"]


@pytest.mark.parametrize(("stack", "status"), [("dev", "Approved"), ("staging", "PendingManualApproval"),
                                               ("prod", "PendingManualApproval")])
def test_registration_records_the_version_with_its_metrics(plans: dict[str, Plan], stack: str, status: str) -> None:
    register = steps(plans[stack])["RegisterModel"]["Arguments"]
    assert register["ModelPackageGroupName"] == f"mlops-{stack}-fraud-detector"
    assert register["ModelApprovalStatus"] == status
    assert register["ModelMetrics"]["ModelQuality"]["Statistics"] == {
        "ContentType": "application/json",
        "S3Uri": {"Std:Join": {"On": "/", "Values": [
            _get("Evaluate", "ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"), "evaluation.json"]}},
    }
    (container,) = register["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == _get("Train", "ModelArtifacts.S3ModelArtifacts")
    assert register["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv", "application/json"]
    code_key = under(plans[stack], TRAINING, OBJECT)[0].inputs["key"]
    assert register["CustomerMetadataProperties"] == {
        "codeSha256": code_key.split("/")[2],
        "evaluationThreshold": str(THRESHOLDS[stack]),
        "triggeredBy": {"Get": "Parameters.TriggeredBy"},
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_job_runs_the_stacks_pinned_image_for_its_region(plans: dict[str, Plan], stack: str) -> None:
    image = stack_config(stack)["mlops:image"]
    registry = image.get("accountId", ACCOUNTS[stack])
    expected = f"{registry}.dkr.ecr.{REGION}.amazonaws.com/{image['repository']}@{image['digest']}"
    found = steps(plans[stack])
    images = [found["Preprocess"]["Arguments"]["AppSpecification"]["ImageUri"],
              found["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"],
              found["Evaluate"]["Arguments"]["AppSpecification"]["ImageUri"],
              *(c["Image"] for c in found["RegisterModel"]["Arguments"]["InferenceSpecification"]["Containers"])]
    assert images == [expected] * 4
    assert image["digest"] == DIGEST


def test_images_follow_the_stacks_region() -> None:
    plan = plan_with("dev", {"aws:region": "eu-west-1"})
    text = json.dumps(definition(plan))
    assert "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-model@" in text
    assert "us-east-1" not in text


@pytest.mark.parametrize("stack", STACKS)
def test_s3_locations_are_this_stacks_buckets(plans: dict[str, Plan], stack: str) -> None:
    plan, buckets = plans[stack], bucket_names(plans[stack])
    document = definition(plan)
    literal = [s for s in _strings(document) if s.startswith("s3://")]
    joined = [v for v in _joins(document) if v and v[0] == "s3:/"]
    used = {s.removeprefix("s3://").split("/")[0] for s in literal} | {v[1] for v in joined}
    assert used == {buckets["raw"], buckets["curated"], buckets["artifacts"]}
    assert document["Parameters"][0]["DefaultValue"] == f"s3://{buckets['raw']}/incoming/fraud-detector/"
    found = steps(plan)
    outputs = {o["OutputName"]: o["S3Output"]["S3Uri"]["Std:Join"]["Values"]
               for s in ("Preprocess", "Evaluate") for o in found[s]["Arguments"]["ProcessingOutputConfig"]["Outputs"]}
    for split in ("train", "validation", "test"):
        assert outputs[split] == ["s3:/", buckets["curated"], "pipelines/fraud-detector", EXECUTION, split]
    assert outputs["evaluation"] == ["s3:/", buckets["artifacts"], "pipelines/fraud-detector", EXECUTION, "evaluation"]
    assert found["Train"]["Arguments"]["OutputDataConfig"]["S3OutputPath"] == (
        f"s3://{buckets['artifacts']}/pipelines/fraud-detector/models")


@pytest.mark.parametrize("stack", STACKS)
def test_jobs_run_the_code_the_stack_uploaded(plans: dict[str, Plan], stack: str) -> None:
    plan, buckets = plans[stack], bucket_names(plans[stack])
    objects = under(plan, TRAINING, OBJECT)
    prefixes = {o.inputs["key"].rsplit("/model_code/", 1)[0] for o in objects}
    assert len(prefixes) == 1
    code_uri = f"s3://{buckets['artifacts']}/{prefixes.pop()}/"
    assert {o.inputs["bucket"] for o in objects} == {buckets["artifacts"]}
    assert {o.inputs["kmsKeyId"] for o in objects} == {key_arn(plan)}
    found = steps(plan)
    for name, command in (("Preprocess", "preprocess"), ("Evaluate", "evaluate")):
        arguments = found[name]["Arguments"]
        code = next(i for i in arguments["ProcessingInputs"] if i["InputName"] == "code")["S3Input"]
        assert (code["S3Uri"], code["LocalPath"]) == (code_uri, "/opt/ml/processing/code")
        assert arguments["Environment"] == {"PYTHONSAFEPATH": "1", "PYTHONPATH": "/opt/ml/processing/code"}
        # The image's entrypoint is `python -m model_code`; the job names the command.
        assert arguments["AppSpecification"]["ContainerArguments"] == [command]
        assert "ContainerEntrypoint" not in arguments["AppSpecification"]
    train = found["Train"]["Arguments"]
    code = next(c for c in train["InputDataConfig"] if c["ChannelName"] == "code")
    assert code["DataSource"]["S3DataSource"]["S3Uri"] == code_uri
    assert train["Environment"] == {"PYTHONSAFEPATH": "1", "PYTHONPATH": "/opt/ml/input/data/code"}


@pytest.mark.parametrize("stack", STACKS)
def test_jobs_are_encrypted_isolated_and_time_limited_as_configured(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    training = stack_config(stack)["mlops:models"][0]["training"]
    key, found = key_arn(plan), steps(plan)
    runtime = training["maxRuntimeMinutes"] * 60
    for name in ("Preprocess", "Evaluate"):
        arguments = found[name]["Arguments"]
        assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == key
        assert arguments["NetworkConfig"]["EnableNetworkIsolation"] is True
        assert arguments["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
        assert arguments["StoppingCondition"] == {"MaxRuntimeInSeconds": runtime}
        assert arguments["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.large"
    train = found["Train"]["Arguments"]
    assert train["ResourceConfig"] == {"InstanceType": training["instanceType"], "InstanceCount": 1,
                                       "VolumeSizeInGB": 30, "VolumeKmsKeyId": key}
    assert train["OutputDataConfig"]["KmsKeyId"] == key
    assert (train["EnableNetworkIsolation"], train["EnableInterContainerTrafficEncryption"]) == (True, True)
    if training["spot"]:  # dev: spot capacity, checkpointed per execution, waiting at most twice the run time
        assert train["EnableManagedSpotTraining"] is True
        assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": runtime, "MaxWaitTimeInSeconds": 2 * runtime}
        assert train["CheckpointConfig"] == {"LocalPath": "/opt/ml/checkpoints", "S3Uri": {"Std:Join": {
            "On": "/", "Values": ["s3:/", bucket_names(plan)["artifacts"], "pipelines/fraud-detector", EXECUTION,
                                  "checkpoints"]}}}
    else:
        assert train["EnableManagedSpotTraining"] is False
        assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": runtime}
        assert "CheckpointConfig" not in train
    assert train["HyperParameters"] == {k: str(v) for k, v in training.get("hyperparameters", {}).items()}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_jobs_run_in_the_stacks_vpc_where_it_has_one(plans: dict[str, Plan], stack: str) -> None:
    network = stack_config(stack)["mlops:network"]
    vpc = {"Subnets": [s["id"] for s in network["subnets"]], "SecurityGroupIds": network["securityGroupIds"]}
    found = steps(plans[stack])
    assert found["Train"]["Arguments"]["VpcConfig"] == vpc
    for name in ("Preprocess", "Evaluate"):
        assert found[name]["Arguments"]["NetworkConfig"]["VpcConfig"] == vpc
    assert "VpcConfig" not in steps(plans["dev"])["Train"]["Arguments"]


def test_spot_settings_flow_into_the_training_step() -> None:
    plan = plan_with("dev", {"mlops:models": with_training("dev", maxRuntimeMinutes=30, maxWaitMinutes=45)})
    assert steps(plan)["Train"]["Arguments"]["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 1800, "MaxWaitTimeInSeconds": 2700}


def test_the_definition_is_deterministic(plans: dict[str, Plan]) -> None:
    before = one(plans["dev"].of_type(PIPELINE)).inputs["pipelineDefinition"]
    pipeline_definition.cache_clear()  # generate it again, not from the cache
    again = one(plan_with("dev", {}).of_type(PIPELINE)).inputs["pipelineDefinition"]
    assert again == before


# --- the step arguments are valid SageMaker API requests ---------------------------------------------------------
_SHAPES = {"Processing": "CreateProcessingJobRequest", "Training": "CreateTrainingJobRequest",
           "RegisterModel": "CreateModelPackageInput"}
# Filled in by the pipeline service at run time, so the SDK leaves them out of the definition.
_SERVICE_FILLED = {"Processing": {"ProcessingJobName": "p"}, "Training": {"TrainingJobName": "t"},
                   "RegisterModel": {}}


def _placeholders(value: Any, shape: Any) -> Any:
    """Replace pipeline expressions by a value of the type the API expects there."""
    if isinstance(value, dict) and value.keys() & {"Get", "Std:Join", "Std:JsonGet"}:
        return {"string": "s3://bucket/resolved-at-run-time", "integer": 1, "float": 1.0,
                "boolean": True}[shape.type_name]
    if isinstance(value, dict) and shape.type_name == "structure":
        return {k: _placeholders(v, shape.members[k]) if k in shape.members else v for k, v in value.items()}
    if isinstance(value, dict) and shape.type_name == "map":
        return {k: _placeholders(v, shape.value) for k, v in value.items()}
    if isinstance(value, list) and shape.type_name == "list":
        return [_placeholders(v, shape.member) for v in value]
    return value


@pytest.mark.parametrize("stack", STACKS)
def test_step_arguments_are_valid_sagemaker_requests(plans: dict[str, Plan], stack: str) -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    checked = 0
    for step in steps(plans[stack]).values():
        if step["Type"] not in _SHAPES:
            continue
        shape = model.shape_for(_SHAPES[step["Type"]])
        request = {**_placeholders(step["Arguments"], shape), **_SERVICE_FILLED[step["Type"]]}
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), f"{step['Name']}: {report.generate_report()}"
        checked += 1
    assert checked == 4


# --- the registry ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_the_model_package_group_is_the_registry_of_the_model(plans: dict[str, Plan], stack: str) -> None:
    group = one(plans[stack].of_type(GROUP))
    assert group.inputs["modelPackageGroupName"] == f"mlops-{stack}-fraud-detector"
    assert group.inputs["modelPackageGroupDescription"] == (
        "Card-not-present transaction fraud classifier (gradient boosting).")
    assert group.inputs["tags"] == {"model": "fraud-detector"}
    production = stack != "dev"
    assert (group.protect, group.retain_on_delete) == (production, production)


def test_consumer_accounts_may_only_describe_and_list_devs_versions(plans: dict[str, Plan]) -> None:
    document = json.loads(one(plans["dev"].of_type(GROUP_POLICY)).inputs["resourcePolicy"])
    group = "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/mlops-dev-fraud-detector"
    principals = {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]}
    assert document["Statement"] == [
        {"Sid": "DescribeGroup", "Effect": "Allow", "Principal": principals,
         "Action": "sagemaker:DescribeModelPackageGroup", "Resource": group},
        {"Sid": "ReadVersions", "Effect": "Allow", "Principal": principals,
         "Action": ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"],
         "Resource": "arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-fraud-detector/*"},
    ]
    # staging and prod name no consumers: nobody else reads their registries.
    assert plans["staging"].of_type(GROUP_POLICY) == [] and plans["prod"].of_type(GROUP_POLICY) == []


def test_the_pipeline_waits_for_its_role_policy_and_code(plans: dict[str, Plan]) -> None:
    plan = plans["dev"]
    pipeline = one(plan.of_type(PIPELINE))
    needed = {named(plan, "aws:iam/rolePolicy:RolePolicy", "-exec-policy").urn, one(plan.of_type(GROUP)).urn,
              *(o.urn for o in under(plan, TRAINING, OBJECT))}
    assert needed <= set(pipeline.dependencies)
    assert pipeline.inputs["roleArn"] == steps(plan)["Train"]["Arguments"]["RoleArn"]
