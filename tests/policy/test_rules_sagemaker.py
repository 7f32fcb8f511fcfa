"""SageMaker rules (hosting, jobs, studio): one compliant and at least one violating minimal stack each."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ._kit import Case, Res, assert_case, bad, ok
from ._s3_fixtures import document

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
TRAINING_JOB = "aws:sagemaker/trainingJob:TrainingJob"
DATA_QUALITY = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
REGISTRY_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
DOMAIN = "aws:sagemaker/domain:Domain"
KEY = "arn:aws:kms:us-east-1:111111111111:key/0000"
PACKAGE = "arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-fraud-detector/3"
VPC = {"subnets": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-1"]}


def model(**props: Any) -> Res:
    base = {"executionRoleArn": "arn:r", "enableNetworkIsolation": True, "vpcConfig": VPC,
            "primaryContainer": {"modelPackageName": PACKAGE}}
    return Res(MODEL, {**base, **props})


def variant(**props: Any) -> dict[str, Any]:
    return {"variantName": "AllTraffic", "modelName": "m", "instanceType": "ml.m5.large", "initialInstanceCount": 2,
            **props}


CAPTURE = {"enableCapture": True, "initialSamplingPercentage": 20, "destinationS3Uri": "s3://capture/fraud/",
           "kmsKeyId": KEY, "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}]}


def config(**props: Any) -> Res:
    base = {"kmsKeyArn": KEY, "productionVariants": [variant()], "dataCaptureConfig": CAPTURE}
    return Res(CONFIG, {**base, **props}, name="ec")


CANARY = {"type": "CANARY", "canarySize": {"type": "CAPACITY_PERCENT", "value": 10}, "waitIntervalInSeconds": 600}


def deployment(routing: Any = None, *, termination: int = 600, maximum: int = 3000,
               alarms: tuple[str, ...] = ("ep-5xx",)) -> dict[str, Any]:
    return {
        "blueGreenUpdatePolicy": {"trafficRoutingConfiguration": routing or CANARY,
                                  "terminationWaitInSeconds": termination,
                                  "maximumExecutionTimeoutInSeconds": maximum},
        "autoRollbackConfiguration": {"alarms": [{"alarmName": a} for a in alarms]},
    }


def endpoint(dc: Any = None, **props: Any) -> Res:
    return Res(ENDPOINT, {"name": "mlops-prod-fraud", "endpointConfigName": "ec-1",
                          "deploymentConfig": deployment() if dc is None else dc, **props}, name="ep")


def alarm(name: str = "ep-5xx", **props: Any) -> Res:
    base = {"name": name, "namespace": "AWS/SageMaker", "metricName": "Invocation5XXErrors", "actionsEnabled": True,
            "dimensions": {"EndpointName": "mlops-prod-fraud", "VariantName": "AllTraffic"},
            "alarmActions": ["arn:aws:sns:us-east-1:111111111111:alerts"]}
    return Res(ALARM, {**base, **props}, name=f"alarm-{name}")


def training_step(**arguments: Any) -> dict[str, Any]:
    base = {
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30,
                           "VolumeKmsKeyId": KEY},
        "OutputDataConfig": {"S3OutputPath": "s3://artifacts/", "KmsKeyId": KEY},
        "VpcConfig": {"Subnets": ["subnet-a"], "SecurityGroupIds": ["sg-1"]},
    }
    return {"Name": "Train", "Type": "Training", "Arguments": {**base, **arguments}}


def processing_step(**arguments: Any) -> dict[str, Any]:
    base = {
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                                  "VolumeSizeInGB": 30, "VolumeKmsKeyId": KEY}},
        "ProcessingOutputConfig": {"Outputs": [], "KmsKeyId": KEY},
        "NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True,
                          "VpcConfig": {"Subnets": ["subnet-a"], "SecurityGroupIds": ["sg-1"]}},
    }
    return {"Name": "Evaluate", "Type": "Processing", "Arguments": {**base, **arguments}}


def pipeline(*steps: dict[str, Any]) -> Res:
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": list(steps)}
    return Res(PIPELINE, {"pipelineName": "p", "roleArn": "arn:r", "pipelineDefinition": json.dumps(definition)})


def condition_step(*inner: dict[str, Any]) -> dict[str, Any]:
    return {"Name": "Gate", "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": list(inner),
                                                               "ElseSteps": []}}


TRAINING_JOB_OK = {
    "roleArn": "arn:r", "enableNetworkIsolation": True, "enableInterContainerTrafficEncryption": True,
    "resourceConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 1, "volumeKmsKeyId": KEY},
    "outputDataConfig": {"s3OutputPath": "s3://a/", "kmsKeyId": KEY}, "vpcConfig": VPC,
}
DATA_QUALITY_OK = {
    "roleArn": "arn:r",
    "networkConfig": {"enableNetworkIsolation": True, "enableInterContainerTrafficEncryption": True,
                      "vpcConfig": VPC},
    "jobResources": {"clusterConfig": {"instanceType": "ml.m5.large", "instanceCount": 1, "volumeSizeInGb": 20,
                                       "volumeKmsKeyId": KEY}},
    "dataQualityJobOutputConfig": {"kmsKeyId": KEY, "monitoringOutputs": {"s3Output": {"s3Uri": "s3://m/"}}},
}
READ_REGISTRY = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/promoter"},
                 "Action": ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:CreateModel"],
                 "Resource": "*"}
NOTEBOOK_OK = {"instanceType": "ml.t3.medium", "roleArn": "arn:r", "directInternetAccess": "Disabled",
               "subnetId": "subnet-a", "securityGroups": ["sg-1"], "rootAccess": "Disabled", "kmsKeyId": KEY}

CASES: list[Case] = [
    ok("sagemaker-model-network-isolation", "isolated", model()),
    bad("sagemaker-model-network-isolation", "not isolated", model(enableNetworkIsolation=False)),
    ok("sagemaker-model-in-vpc", "subnets and groups", model()),
    bad("sagemaker-model-in-vpc", "no vpc config", model(vpcConfig=None), expect="vpc_config"),
    bad("sagemaker-model-in-vpc", "subnets without security groups", model(vpcConfig={"subnets": ["a"]})),
    ok("sagemaker-model-from-registry", "model package", model()),
    ok("sagemaker-model-from-registry", "dev may serve an artifact (rule off in dev)",
       model(primaryContainer={"image": "img", "modelDataUrl": "s3://a/model.tar.gz"}), env="dev"),
    bad("sagemaker-model-from-registry", "artifact in staging", model(primaryContainer={
        "image": "img", "modelDataUrl": "s3://a/model.tar.gz"}), env="staging", expect="registered model package"),
    ok("sagemaker-endpoint-config-kms", "key set", config()),
    ok("sagemaker-endpoint-config-kms", "NVMe instance storage refuses a key", config(
        kmsKeyArn=None, productionVariants=[variant(instanceType="ml.g4dn.xlarge")])),
    ok("sagemaker-endpoint-config-kms", "serverless variant", config(kmsKeyArn=None, productionVariants=[
        {"variantName": "AllTraffic", "modelName": "m", "serverlessConfig": {"maxConcurrency": 5,
                                                                             "memorySizeInMb": 2048}}])),
    ok("sagemaker-endpoint-config-kms", "key ARN not known yet (preview)", config(kmsKeyArn="[unknown]")),
    bad("sagemaker-endpoint-config-kms", "no key", config(kmsKeyArn=None), expect="kms_key_arn"),
    ok("sagemaker-endpoint-variant-ha", "two instances", config()),
    bad("sagemaker-endpoint-variant-ha", "one instance", config(productionVariants=[variant(initialInstanceCount=1)]),
        expect="AllTraffic has initial_instance_count 1"),
    ok("sagemaker-endpoint-data-capture", "capturing", config()),
    bad("sagemaker-endpoint-data-capture", "no capture", config(dataCaptureConfig=None)),
    bad("sagemaker-endpoint-data-capture", "capture switched off", config(dataCaptureConfig={
        **CAPTURE, "enableCapture": False})),
    ok("sagemaker-endpoint-data-capture-encrypted", "key set", config()),
    ok("sagemaker-endpoint-data-capture-encrypted", "no capture, nothing to encrypt", config(dataCaptureConfig=None)),
    bad("sagemaker-endpoint-data-capture-encrypted", "capture without key", config(dataCaptureConfig={
        **CAPTURE, "kmsKeyId": None}), expect="kms_key_id"),
    ok("sagemaker-endpoint-config-autonamed", "no name (offline plan)", config()),
    ok("sagemaker-endpoint-config-autonamed", "auto-name filled in by the provider", config(name="ec-1a2b3c4")),
    bad("sagemaker-endpoint-config-autonamed", "fixed name", config(name="fraud-config"), expect="fraud-config"),
    ok("sagemaker-endpoint-deployment-guardrails", "canary with baking", endpoint()),
    ok("sagemaker-endpoint-deployment-guardrails", "rolling with baking", endpoint(dc={"rollingUpdatePolicy": {
        "maximumBatchSize": {"type": "CAPACITY_PERCENT", "value": 50}, "waitIntervalInSeconds": 300,
        "maximumExecutionTimeoutInSeconds": 1800}})),
    bad("sagemaker-endpoint-deployment-guardrails", "no deployment config", endpoint(dc={}),
        expect="no deployment_config"),
    bad("sagemaker-endpoint-deployment-guardrails", "all at once", endpoint(dc=deployment(
        {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": 300})), expect="ALL_AT_ONCE"),
    bad("sagemaker-endpoint-deployment-guardrails", "canary without baking", endpoint(dc=deployment(
        {**CANARY, "waitIntervalInSeconds": 0})), expect="baking"),
    ok("sagemaker-endpoint-auto-rollback", "alarm listed", endpoint()),
    bad("sagemaker-endpoint-auto-rollback", "no alarms", endpoint(dc=deployment(alarms=())),
        expect="no auto-rollback"),
    ok("sagemaker-endpoint-deployment-fits-timeouts", "600s canary + 600s termination", endpoint()),
    ok("sagemaker-endpoint-deployment-fits-timeouts", "no deployment config, nothing to time", endpoint(dc={})),
    bad("sagemaker-endpoint-deployment-fits-timeouts", "linear 10% x 600s exceeds the provider wait",
        endpoint(dc=deployment({"type": "LINEAR", "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 10},
                                "waitIntervalInSeconds": 600}, maximum=14400)), expect="6600s"),
    bad("sagemaker-endpoint-deployment-fits-timeouts", "timeout below the waits", endpoint(dc=deployment(
        maximum=900)), expect="maximum_execution_timeout_in_seconds is 900"),
    ok("sagemaker-rollback-alarms-watch-endpoint", "alarm on the endpoint's 5XX", endpoint(), alarm()),
    ok("sagemaker-rollback-alarms-watch-endpoint", "alarm joined by property dependency, metric query",
       Res(ENDPOINT, {"endpointConfigName": "ec-1", "deploymentConfig": deployment(alarms=("auto-1234567",))},
           name="ep", deps={"deploymentConfig": ("alarm-x",)}),
       Res(ALARM, {"actionsEnabled": True, "metricQueries": [{"id": "m1", "metric": {
           "namespace": "AWS/SageMaker", "metricName": "ModelLatency",
           "dimensions": {"EndpointName": "x", "VariantName": "AllTraffic"}}}]}, name="alarm-x")),
    ok("sagemaker-rollback-alarms-watch-endpoint", "names not known yet (preview), joined by property dependency",
       Res(ENDPOINT, {"name": "[unknown]", "endpointConfigName": "[unknown]",
                      "deploymentConfig": deployment(alarms=("[unknown]",))}, name="ep",
           deps={"deploymentConfig": ("alarm-x",)}),
       Res(ALARM, {**alarm().props, "name": "[unknown]", "dimensions": {"EndpointName": "[unknown]"}},
           name="alarm-x")),
    bad("sagemaker-rollback-alarms-watch-endpoint", "alarm not in the stack", endpoint(),
        expect="not declared in this stack"),
    bad("sagemaker-rollback-alarms-watch-endpoint", "alarm with actions disabled", endpoint(),
        alarm(actionsEnabled=False), expect="actions disabled"),
    bad("sagemaker-rollback-alarms-watch-endpoint", "alarm on another endpoint", endpoint(),
        alarm(dimensions={"EndpointName": "someone-else"}), expect="does not watch"),
    ok("sagemaker-registry-policy-read-only", "describe/list/create model", Res(REGISTRY_POLICY, {
        "modelPackageGroupName": "g", "resourcePolicy": document(READ_REGISTRY)})),
    bad("sagemaker-registry-policy-read-only", "update allowed", Res(REGISTRY_POLICY, {
        "modelPackageGroupName": "g", "resourcePolicy": document({**READ_REGISTRY, "Action": "sagemaker:*"})}),
        expect="sagemaker:*"),
    bad("sagemaker-registry-policy-read-only", "anyone", Res(REGISTRY_POLICY, {
        "modelPackageGroupName": "g", "resourcePolicy": document({**READ_REGISTRY, "Principal": "*"})}),
        expect="any principal"),
    ok("sagemaker-job-network-isolation", "training and processing steps", pipeline(training_step(),
                                                                                  processing_step())),
    ok("sagemaker-job-network-isolation", "training job and data quality job", Res(TRAINING_JOB, TRAINING_JOB_OK),
       Res(DATA_QUALITY, DATA_QUALITY_OK, name="dq")),
    bad("sagemaker-job-network-isolation", "training step without isolation", pipeline(training_step(
        EnableNetworkIsolation=False)), expect="step Train: network isolation is False"),
    bad("sagemaker-job-network-isolation", "isolation from a pipeline parameter", pipeline(training_step(
        EnableNetworkIsolation={"Get": "Parameters.Isolate"})), expect="pipeline expression"),
    bad("sagemaker-job-network-isolation", "processing step inside a condition", pipeline(condition_step(
        processing_step(NetworkConfig={"EnableInterContainerTrafficEncryption": True}))),
        expect="step Gate > step Evaluate"),
    ok("sagemaker-job-inter-container-encryption", "encrypted", pipeline(training_step())),
    bad("sagemaker-job-inter-container-encryption", "training job unset", Res(TRAINING_JOB, {
        **TRAINING_JOB_OK, "enableInterContainerTrafficEncryption": None}), expect="is not set"),
    ok("sagemaker-job-kms-encryption", "volume and output keys", pipeline(training_step(), processing_step())),
    ok("sagemaker-job-kms-encryption", "key from a pipeline parameter", pipeline(training_step(
        OutputDataConfig={"S3OutputPath": "s3://a/", "KmsKeyId": {"Get": "Parameters.KmsKey"}}))),
    ok("sagemaker-job-kms-encryption", "NVMe instance needs no volume key", pipeline(training_step(
        ResourceConfig={"InstanceType": "ml.p4d.24xlarge", "InstanceCount": 1}))),
    bad("sagemaker-job-kms-encryption", "no volume key", pipeline(training_step(
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1})), expect="storage volume"),
    bad("sagemaker-job-kms-encryption", "no output key", Res(DATA_QUALITY, {
        **DATA_QUALITY_OK, "dataQualityJobOutputConfig": {"monitoringOutputs": {}}}), expect="output"),
    ok("sagemaker-job-vpc", "vpc config", pipeline(training_step(), processing_step())),
    bad("sagemaker-job-vpc", "training step outside the VPC", pipeline(training_step(VpcConfig=None)),
        expect="no VPC config"),
    ok("sagemaker-pipeline-definition-inline", "inline", pipeline(training_step())),
    bad("sagemaker-pipeline-definition-inline", "definition in S3", Res(PIPELINE, {
        "pipelineName": "p", "roleArn": "r", "pipelineDefinitionS3Location": {"bucket": "b", "objectKey": "k"}})),
    ok("sagemaker-notebook-no-direct-internet", "private", Res(NOTEBOOK, NOTEBOOK_OK)),
    bad("sagemaker-notebook-no-direct-internet", "default internet access", Res(NOTEBOOK, {
        **NOTEBOOK_OK, "directInternetAccess": None, "subnetId": None}), expect="direct internet"),
    ok("sagemaker-notebook-root-disabled", "no root", Res(NOTEBOOK, NOTEBOOK_OK)),
    bad("sagemaker-notebook-root-disabled", "root", Res(NOTEBOOK, {**NOTEBOOK_OK, "rootAccess": "Enabled"})),
    ok("sagemaker-notebook-kms", "key", Res(NOTEBOOK, NOTEBOOK_OK)),
    bad("sagemaker-notebook-kms", "no key", Res(NOTEBOOK, {**NOTEBOOK_OK, "kmsKeyId": None})),
    ok("sagemaker-domain-vpc-only", "VpcOnly", Res(DOMAIN, {"appNetworkAccessType": "VpcOnly", "kmsKeyId": KEY})),
    bad("sagemaker-domain-vpc-only", "PublicInternetOnly", Res(DOMAIN, {"appNetworkAccessType": "PublicInternetOnly"})),
    ok("sagemaker-domain-kms", "key", Res(DOMAIN, {"appNetworkAccessType": "VpcOnly", "kmsKeyId": KEY})),
    bad("sagemaker-domain-kms", "no key", Res(DOMAIN, {"appNetworkAccessType": "VpcOnly"})),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_sagemaker_rule(case: Case) -> None:
    assert_case(case)
