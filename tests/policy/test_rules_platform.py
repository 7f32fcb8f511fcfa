"""Tagging, data protection, ECR, CloudWatch/SNS, VPC and Kubernetes rules: compliant and violating cases."""

from __future__ import annotations

from typing import Any

import pytest

from ._kit import NO_PROVIDER, Case, Res, assert_case, bad, ok
from ._s3_fixtures import document

BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
REGISTRY = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
REPO = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPO_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
DEFAULT_VPC = "aws:ec2/defaultVpc:DefaultVpc"
SUBNET = "aws:ec2/subnet:Subnet"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
NAMESPACE = "kubernetes:core/v1:Namespace"
KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/0000"
OWN_TAGS = {"project": "mlops", "environment": "prod", "owner": "ml", "cost-center": "cc-1"}

REPO_OK = {"imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True},
           "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}], "forceDelete": False,
           "name": "mlops-model"}


def repository(**props: Any) -> Res:
    return Res(REPO, {**REPO_OK, **props}, name="repo")


SECURE_CONTAINER = {
    "name": "server",
    "image": "111111111111.dkr.ecr.us-east-1.amazonaws.com/mlops-model@sha256:" + "a" * 64,
    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
    "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}},
    "readinessProbe": {"httpGet": {"path": "/ping", "port": 8080}},
    "livenessProbe": {"httpGet": {"path": "/ping", "port": 8080}, "periodSeconds": 30},
    "ports": [{"containerPort": 8080}],
}


def pod(container: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": True},
            "automountServiceAccountToken": False, "containers": [container or SECURE_CONTAINER], **spec}


def deployment(container: dict[str, Any] | None = None, replicas: int = 2, namespace: str | None = "serving",
               **spec: Any) -> Res:
    metadata = {"name": "server", **({"namespace": namespace} if namespace else {})}
    return Res(DEPLOYMENT, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": "server"}},
        "template": {"metadata": {"labels": {"app": "server"}}, "spec": pod(container, **spec)}}},
        provider=NO_PROVIDER)


def container(**security: Any) -> dict[str, Any]:
    return {**SECURE_CONTAINER, "securityContext": {**SECURE_CONTAINER["securityContext"], **security}}


CASES: list[Case] = [
    ok("aws-required-tags", "standard tags from the provider", Res(BUCKET, {"tags": {"purpose": "raw"}})),
    ok("aws-required-tags", "own tags without a tagged provider", Res(KEY, {"tags": OWN_TAGS}, provider=NO_PROVIDER)),
    ok("aws-required-tags", "untaggable side resource", Res(VERSIONING, {"bucket": "b"}, provider=NO_PROVIDER)),
    bad("aws-required-tags", "default provider, no tags", Res(BUCKET, {}, provider=NO_PROVIDER),
        expect="missing tags project, environment, owner, cost-center"),
    bad("aws-required-tags", "empty owner", Res(KEY, {"tags": {**OWN_TAGS, "owner": " "}}, provider=NO_PROVIDER),
        expect="owner"),
    ok("aws-environment-tag-matches", "prod tag in prod", Res(BUCKET, {})),
    bad("aws-environment-tag-matches", "dev tag checked as prod",
        Res(KEY, {"tags": {**OWN_TAGS, "environment": "dev"}}, provider=NO_PROVIDER), expect="checked as prod"),
    bad("aws-environment-tag-matches", "unknown environment name",
        Res(KEY, {"tags": {**OWN_TAGS, "environment": "qa"}}, provider=NO_PROVIDER), expect="'qa'"),
    ok("stateful-resources-protected", "protected bucket, key and registry", Res(BUCKET, {}, protect=True),
       Res(KEY, {}, name="k", protect=True), Res(REGISTRY, {"modelPackageGroupName": "g"}, name="g", protect=True)),
    ok("stateful-resources-protected", "dev is disposable (rule off)", Res(BUCKET, {}), env="dev"),
    bad("stateful-resources-protected", "unprotected key in prod", Res(KEY, {}, name="k"), expect="Key k"),
    bad("stateful-resources-protected", "unprotected repository in staging", repository(), env="staging"),
    ok("ecr-immutable-tags", "immutable", repository()),
    bad("ecr-immutable-tags", "mutable by default", Res(REPO, {"name": "r"}), expect="MUTABLE"),
    ok("ecr-image-scanning", "scan on push", repository()),
    ok("ecr-image-scanning", "enhanced registry scanning", repository(imageScanningConfiguration=None),
       Res(SCANNING, {"scanType": "ENHANCED", "rules": [{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [
           {"filter": "*", "filterType": "WILDCARD"}]}]}, name="scan")),
    bad("ecr-image-scanning", "no scanning", repository(imageScanningConfiguration={"scanOnPush": False}),
        expect="does not scan"),
    ok("ecr-kms-encryption", "KMS", repository()),
    bad("ecr-kms-encryption", "AES256 default", repository(encryptionConfigurations=None)),
    ok("ecr-lifecycle-policy", "connected policy", repository(),
       Res(LIFECYCLE, {"repository": "mlops-model", "policy": "{}"}, name="lp", deps={"repository": ("repo",)})),
    ok("ecr-lifecycle-policy", "joined by repository name", repository(),
       Res(LIFECYCLE, {"repository": "mlops-model", "policy": "{}"}, name="lp")),
    bad("ecr-lifecycle-policy", "none", repository(), expect="no lifecycle policy"),
    ok("ecr-repository-policy-not-public", "named account role", Res(REPO_POLICY, {"repository": "r", "policy":
        document({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/sagemaker"},
                  "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]})})),
    bad("ecr-repository-policy-not-public", "anyone pulls", Res(REPO_POLICY, {"repository": "r", "policy": document(
        {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"})}), expect="Principal '*'"),
    ok("ecr-no-force-delete", "off", repository()),
    ok("ecr-no-force-delete", "dev may force-delete (rule off)", repository(forceDelete=True), env="dev"),
    bad("ecr-no-force-delete", "on in prod", repository(forceDelete=True), expect="force_delete"),
    ok("cloudwatch-alarm-actions-enabled", "enabled", Res(ALARM, {"actionsEnabled": True, "alarmActions": ["t"]})),
    bad("cloudwatch-alarm-actions-enabled", "disabled", Res(ALARM, {"actionsEnabled": False})),
    ok("cloudwatch-alarm-has-action", "notifies", Res(ALARM, {"alarmActions": ["arn:aws:sns:us-east-1:1:t"]})),
    ok("cloudwatch-alarm-has-action", "topic ARN not known yet (preview)", Res(ALARM, {"alarmActions": ["[unknown]"]})),
    bad("cloudwatch-alarm-has-action", "silent", Res(ALARM, {"alarmActions": []}), expect="no ALARM-state action"),
    ok("cloudwatch-log-group-retention", "a year", Res(LOG_GROUP, {"retentionInDays": 365, "kmsKeyId": KEY_ARN})),
    ok("cloudwatch-log-group-retention", "never expire", Res(LOG_GROUP, {"retentionInDays": 0})),
    bad("cloudwatch-log-group-retention", "30 days", Res(LOG_GROUP, {"retentionInDays": 30}), expect="30 days"),
    bad("cloudwatch-log-group-retention", "unset", Res(LOG_GROUP, {}), expect="no retention"),
    ok("cloudwatch-log-group-kms", "key", Res(LOG_GROUP, {"kmsKeyId": KEY_ARN})),
    bad("cloudwatch-log-group-kms", "no key", Res(LOG_GROUP, {"retentionInDays": 365})),
    ok("sns-topic-kms", "CMK", Res(TOPIC, {"kmsMasterKeyId": KEY_ARN})),
    ok("sns-topic-kms", "key ARN not known yet (preview)", Res(TOPIC, {"kmsMasterKeyId": "[unknown]"})),
    bad("sns-topic-kms", "unencrypted", Res(TOPIC, {}), expect="not encrypted"),
    bad("sns-topic-kms", "AWS-managed key", Res(TOPIC, {"kmsMasterKeyId": "alias/aws/sns"}), expect="alias/aws/sns"),
    ok("sns-topic-policy-not-public", "cloudwatch with source account", Res(TOPIC_POLICY, {"arn": "t", "policy":
        document({"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
                  "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}})})),
    bad("sns-topic-policy-not-public", "anyone publishes", Res(TOPIC_POLICY, {"arn": "t", "policy": document(
        {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish"})}), expect="any principal"),
    ok("vpc-flow-logs", "flow log", Res(VPC, {"cidrBlock": "10.0.0.0/16"}, name="v"),
       Res(FLOW_LOG, {"vpcId": "vpc-1", "trafficType": "ALL"}, name="fl", deps={"vpcId": ("v",)})),
    bad("vpc-flow-logs", "none", Res(VPC, {"cidrBlock": "10.0.0.0/16"}, name="v"), expect="no flow log"),
    ok("vpc-default-security-group-closed", "adopted with no rules", Res(VPC, {}, name="v"),
       Res(DEFAULT_SG, {"vpcId": "vpc-1"}, name="dsg", deps={"vpcId": ("v",)})),
    bad("vpc-default-security-group-closed", "not adopted", Res(VPC, {}, name="v"), expect="default security group"),
    bad("vpc-default-security-group-closed", "adopted with an allow-all rule", Res(VPC, {}, name="v"),
        Res(DEFAULT_SG, {"vpcId": "vpc-1", "ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]},
            name="dsg", deps={"vpcId": ("v",)}), expect="has rules"),
    ok("vpc-no-default-vpc", "own VPC only", Res(VPC, {})),
    bad("vpc-no-default-vpc", "default VPC managed", Res(DEFAULT_VPC, {})),
    ok("vpc-subnet-no-auto-public-ip", "private", Res(SUBNET, {"vpcId": "v", "mapPublicIpOnLaunch": False})),
    bad("vpc-subnet-no-auto-public-ip", "public IPs", Res(SUBNET, {"vpcId": "v", "mapPublicIpOnLaunch": True})),
    ok("vpc-security-group-no-open-admin-ingress", "HTTPS from anywhere, SSH from the VPC", Res(SG, {"ingress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"], "description": "https"},
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/16"], "description": "ssh"}]})),
    bad("vpc-security-group-no-open-admin-ingress", "SSH from the internet (vpc rule)", Res(INGRESS, {
        "securityGroupId": "sg", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}),
        expect="SSH"),
    bad("vpc-security-group-no-open-admin-ingress", "all ports over IPv6", Res(SG_RULE, {
        "type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"],
        "securityGroupId": "sg"}), expect="all ports"),
    bad("vpc-security-group-no-open-admin-ingress", "a range covering RDP", Res(SG, {"ingress": [
        {"protocol": "tcp", "fromPort": 3000, "toPort": 4000, "cidrBlocks": ["0.0.0.0/0"]}]}), expect="RDP"),
    ok("vpc-security-group-no-open-egress", "HTTPS out", Res(EGRESS, {"securityGroupId": "sg", "ipProtocol": "tcp",
                                                                      "fromPort": 443, "toPort": 443,
                                                                      "cidrIpv4": "0.0.0.0/0"})),
    bad("vpc-security-group-no-open-egress", "everything out", Res(SG, {"egress": [
        {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]}), expect="all traffic"),
    ok("vpc-security-group-rule-descriptions", "described", Res(INGRESS, {
        "securityGroupId": "sg", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "10.0.0.0/8",
        "description": "endpoint traffic"})),
    bad("vpc-security-group-rule-descriptions", "undescribed", Res(SG, {"ingress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"]}]}), expect="ingress rule 0"),
    ok("ec2-launch-template-imdsv2", "tokens required", Res(LAUNCH_TEMPLATE, {"metadataOptions": {
        "httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}})),
    ok("ec2-launch-template-imdsv2", "metadata endpoint off", Res(LAUNCH_TEMPLATE, {"metadataOptions": {
        "httpEndpoint": "disabled"}})),
    bad("ec2-launch-template-imdsv2", "IMDSv1 allowed", Res(LAUNCH_TEMPLATE, {"metadataOptions": {
        "httpTokens": "optional"}}), expect="IMDSv1"),
    ok("ec2-launch-template-hop-limit", "one hop", Res(LAUNCH_TEMPLATE, {"metadataOptions": {
        "httpTokens": "required", "httpPutResponseHopLimit": 1}})),
    bad("ec2-launch-template-hop-limit", "two hops", Res(LAUNCH_TEMPLATE, {"metadataOptions": {
        "httpTokens": "required", "httpPutResponseHopLimit": 2}}), expect="hop limit is 2"),
    ok("k8s-run-as-non-root", "non-root", deployment()),
    bad("k8s-run-as-non-root", "UID 0", deployment(container(runAsUser=0)), expect="UID 0"),
    bad("k8s-run-as-non-root", "runAsNonRoot unset anywhere", deployment(
        {**SECURE_CONTAINER, "securityContext": {"allowPrivilegeEscalation": False}},
        securityContext={"seccompProfile": {"type": "RuntimeDefault"}}), expect="may run as root"),
    ok("k8s-no-privilege-escalation", "locked down", deployment()),
    bad("k8s-no-privilege-escalation", "privileged", deployment(container(privileged=True)), expect="privileged"),
    bad("k8s-no-privilege-escalation", "escalation not denied", deployment(container(allowPrivilegeEscalation=None)),
        expect="allows privilege escalation"),
    ok("k8s-drop-all-capabilities", "drop ALL", deployment()),
    ok("k8s-drop-all-capabilities", "NET_BIND_SERVICE added back", deployment(container(capabilities={
        "drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}))),
    bad("k8s-drop-all-capabilities", "SYS_ADMIN added", deployment(container(capabilities={
        "drop": ["ALL"], "add": ["SYS_ADMIN"]})), expect="SYS_ADMIN"),
    bad("k8s-drop-all-capabilities", "nothing dropped", deployment(container(capabilities=None)),
        expect="does not drop ALL"),
    ok("k8s-seccomp-profile", "RuntimeDefault on the pod", deployment()),
    bad("k8s-seccomp-profile", "Unconfined container", deployment(container(seccompProfile={"type": "Unconfined"})),
        expect="Unconfined"),
    ok("k8s-read-only-root-filesystem", "read-only", deployment()),
    bad("k8s-read-only-root-filesystem", "writable", deployment(container(readOnlyRootFilesystem=False))),
    ok("k8s-resources-set", "requests and memory limit", deployment()),
    bad("k8s-resources-set", "no memory limit", deployment({**SECURE_CONTAINER, "resources": {"requests": {
        "cpu": "1", "memory": "1Gi"}}}), expect="memory limit"),
    ok("k8s-probes", "distinct probes", deployment()),
    bad("k8s-probes", "no liveness", deployment({**SECURE_CONTAINER, "livenessProbe": None}), expect="liveness"),
    bad("k8s-probes", "same probe twice", deployment({**SECURE_CONTAINER,
                                                      "livenessProbe": SECURE_CONTAINER["readinessProbe"]}),
        expect="same probe"),
    ok("k8s-image-pinned", "digest", deployment()),
    ok("k8s-image-pinned", "version tag", deployment({**SECURE_CONTAINER, "image": "registry:5000/model:1.4.2"})),
    bad("k8s-image-pinned", "latest", deployment({**SECURE_CONTAINER, "image": "mlops-model:latest"})),
    bad("k8s-image-pinned", "no tag behind a registry port", deployment({**SECURE_CONTAINER,
                                                                         "image": "registry:5000/model"})),
    ok("k8s-no-host-namespaces", "none", deployment()),
    bad("k8s-no-host-namespaces", "host network", deployment(hostNetwork=True), expect="hostNetwork"),
    bad("k8s-no-host-namespaces", "host port", deployment({**SECURE_CONTAINER, "ports": [
        {"containerPort": 8080, "hostPort": 8080}]}), expect="host port"),
    ok("k8s-min-replicas", "two replicas", deployment()),
    bad("k8s-min-replicas", "one replica", deployment(replicas=1), expect="1 replica"),
    ok("k8s-no-default-namespace", "serving namespace", deployment()),
    bad("k8s-no-default-namespace", "no namespace anywhere", deployment(namespace=None)),
    bad("k8s-no-default-namespace", "explicit default", deployment(namespace="default")),
    ok("k8s-no-service-account-token", "not mounted", deployment()),
    bad("k8s-no-service-account-token", "mounted by default", deployment(automountServiceAccountToken=None)),
    ok("k8s-namespace-enforces-restricted", "restricted", Res(NAMESPACE, {"metadata": {"name": "serving", "labels": {
        "pod-security.kubernetes.io/enforce": "restricted"}}}, provider=NO_PROVIDER)),
    bad("k8s-namespace-enforces-restricted", "baseline", Res(NAMESPACE, {"metadata": {"name": "serving", "labels": {
        "pod-security.kubernetes.io/enforce": "baseline"}}}, provider=NO_PROVIDER), expect="baseline"),
]

# The pod spec of a CronJob sits two templates deep; the same rules find it.
CASES += [
    ok("k8s-run-as-non-root", "cron job", Res(CRONJOB, {"metadata": {"namespace": "serving"}, "spec": {
        "jobTemplate": {"spec": {"template": {"spec": pod()}}}}}, provider=NO_PROVIDER)),
    bad("k8s-run-as-non-root", "cron job as root", Res(CRONJOB, {"metadata": {"namespace": "serving"}, "spec": {
        "jobTemplate": {"spec": {"template": {"spec": pod(container(runAsUser=0))}}}}}, provider=NO_PROVIDER)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_platform_rule(case: Case) -> None:
    assert_case(case)
