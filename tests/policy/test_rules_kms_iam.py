"""KMS and IAM rules: one compliant and at least one violating minimal stack each."""

from __future__ import annotations

import pytest

from ._kit import Case, Res, assert_case, bad, ok
from ._s3_fixtures import document

KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROOT = "arn:aws:iam::111111111111:root"
KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/0000"
BUCKET_ARN = "arn:aws:s3:::mlops-dev-raw-1234567"
ADMIN_STMT = {"Effect": "Allow", "Action": "kms:*", "Principal": {"AWS": ROOT}, "Resource": "*"}
SAGEMAKER_TRUST = document({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                            "Action": "sts:AssumeRole"})


def allow(action: object, resource: object = BUCKET_ARN, **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def role_policy(*statements: dict[str, object]) -> Res:
    return Res(ROLE_POLICY, {"role": "r", "policy": document(*statements)})


def trust(*statements: dict[str, object]) -> Res:
    return Res(ROLE, {"assumeRolePolicy": document(*statements)})


GITHUB = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"


def github_trust(sub: str | None) -> Res:
    condition: dict[str, object] = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
    if sub is not None:
        condition["token.actions.githubusercontent.com:sub"] = sub
    return trust({"Effect": "Allow", "Principal": {"Federated": GITHUB}, "Action": "sts:AssumeRoleWithWebIdentity",
                  "Condition": {"StringLike": condition}})


CASES: list[Case] = [
    ok("kms-key-rotation", "rotating symmetric key", Res(KEY, {"enableKeyRotation": True})),
    ok("kms-key-rotation", "asymmetric keys cannot rotate", Res(KEY, {"customerMasterKeySpec": "RSA_2048",
                                                                       "keyUsage": "SIGN_VERIFY"})),
    bad("kms-key-rotation", "rotation unset", Res(KEY, {}), expect="without automatic rotation"),
    ok("kms-key-has-policy", "inline policy", Res(KEY, {"policy": document(ADMIN_STMT)}, name="k")),
    ok("kms-key-has-policy", "connected KeyPolicy", Res(KEY, {}, name="k"),
       Res(KEY_POLICY, {"keyId": "k-1", "policy": document(ADMIN_STMT)}, name="kp", deps={"keyId": ("k",)})),
    bad("kms-key-has-policy", "default key policy", Res(KEY, {}, name="k"), expect="default key policy"),
    ok("kms-key-policy-not-public", "account principal", Res(KEY, {"policy": document(ADMIN_STMT)})),
    ok("kms-key-policy-not-public", "'*' with a condition", Res(KEY_POLICY, {"keyId": "k", "policy": document(
        {**ADMIN_STMT, "Principal": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "111111111111"}}})})),
    bad("kms-key-policy-not-public", "'*' principal", Res(KEY, {"policy": document({**ADMIN_STMT, "Principal": "*"})}),
        expect="any principal"),
    ok("kms-key-no-lockout-bypass", "unset", Res(KEY, {})),
    bad("kms-key-no-lockout-bypass", "bypass on", Res(KEY_POLICY, {"keyId": "k", "policy": "{}",
                                                                  "bypassPolicyLockoutSafetyCheck": True})),
    ok("kms-key-enabled", "enabled", Res(KEY, {"isEnabled": True})),
    bad("kms-key-enabled", "disabled", Res(KEY, {"isEnabled": False}), expect="disabled"),
    ok("kms-key-deletion-window", "30 days", Res(KEY, {"deletionWindowInDays": 30})),
    ok("kms-key-deletion-window", "unset means 30", Res(KEY, {})),
    bad("kms-key-deletion-window", "7 days", Res(KEY, {"deletionWindowInDays": 7}), expect="7 days"),
    ok("iam-no-kms-decrypt-on-all-keys", "scoped to the key", role_policy(allow(["kms:Decrypt"], KEY_ARN))),
    bad("iam-no-kms-decrypt-on-all-keys", "decrypt on '*'", role_policy(allow("kms:Decrypt", "*")),
        expect="kms:decrypt"),
    bad("iam-no-kms-decrypt-on-all-keys", "kms:* on '*' in a role's inline policy", Res(ROLE, {
        "assumeRolePolicy": SAGEMAKER_TRUST, "inlinePolicies": [{"name": "k", "policy": document(
            allow("kms:*", "*"))}]}), expect="inline policy k"),
    ok("iam-no-admin-access", "named actions", role_policy(allow(["s3:GetObject"]))),
    bad("iam-no-admin-access", "'*' on '*'", Res(POLICY, {"policy": document(allow("*", "*"))}),
        expect="every action"),
    ok("iam-no-wildcard-actions", "named actions", role_policy(allow(["s3:GetObject", "s3:PutObject"]))),
    ok("iam-no-wildcard-actions", "prefix wildcard is fine", role_policy(allow("s3:Get*"))),
    bad("iam-no-wildcard-actions", "service:*", role_policy(allow("s3:*")), expect="s3:*"),
    bad("iam-no-wildcard-actions", "'*'", role_policy(allow("*")), expect="allows *"),
    bad("iam-no-wildcard-actions", "Allow with NotAction", role_policy({"Effect": "Allow", "NotAction": "iam:*",
                                                                         "Resource": "*"}), expect="NotAction"),
    ok("iam-no-wildcard-resource", "resource ARNs", role_policy(allow("s3:PutObject", f"{BUCKET_ARN}/*"))),
    ok("iam-no-wildcard-resource", "unscopable actions on '*'", role_policy(allow(
        ["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", "sagemaker:ListModelPackages"], "*"))),
    ok("iam-no-wildcard-resource", "'*' narrowed by a condition", role_policy(allow(
        "sagemaker:StopPipelineExecution", "*", Condition={"StringEquals": {"aws:ResourceTag/project": "mlops"}}))),
    bad("iam-no-wildcard-resource", "writes on '*'", role_policy(allow(["s3:PutObject", "s3:ListBucket"], "*")),
        expect="s3:putobject"),
    bad("iam-no-wildcard-resource", "Get* on '*' (data exfiltration)", role_policy(allow("s3:Get*", "*"))),
    ok("iam-no-privilege-escalation", "no IAM writes", role_policy(allow("s3:GetObject"))),
    bad("iam-no-privilege-escalation", "attach policies anywhere", role_policy(allow(
        ["iam:AttachRolePolicy", "iam:PutRolePolicy"], "*")), expect="iam:attachrolepolicy"),
    bad("iam-no-privilege-escalation", "iam:* on '*'", role_policy(allow("iam:*", "*")),
        expect="iam:createpolicyversion"),
    ok("iam-passrole-scoped", "named role, sagemaker only", role_policy(allow(
        "iam:PassRole", "arn:aws:iam::111111111111:role/mlops-dev-training",
        Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))),
    bad("iam-passrole-scoped", "any role", role_policy(allow(
        "iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})),
        expect="passes any role"),
    bad("iam-passrole-scoped", "any service", role_policy(allow(
        "iam:PassRole", "arn:aws:iam::111111111111:role/mlops-dev-training")), expect="iam:PassedToService"),
    ok("iam-role-trust-not-public", "service principal", Res(ROLE, {"assumeRolePolicy": SAGEMAKER_TRUST})),
    bad("iam-role-trust-not-public", "anyone", trust({"Effect": "Allow", "Principal": {"AWS": "*"},
                                                       "Action": "sts:AssumeRole"}), expect="any principal"),
    ok("iam-role-trust-not-whole-account", "named role", trust({"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": "arn:aws:iam::222222222222:role/promoter"}})),
    ok("iam-role-trust-not-whole-account", "account narrowed by a condition", trust({
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "222222222222"},
        "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/promoter"}}})),
    bad("iam-role-trust-not-whole-account", "account root", trust({"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": "arn:aws:iam::222222222222:root"}}), expect="222222222222"),
    ok("iam-github-oidc-trust-scoped", "one repository and environment",
       github_trust("repo:acme/mlops:environment:prod")),
    bad("iam-github-oidc-trust-scoped", "no sub condition", github_trust(None), expect="any GitHub repository"),
    bad("iam-github-oidc-trust-scoped", "whole organisation", github_trust("repo:acme/*"), expect="repo:acme/*"),
    ok("iam-no-admin-managed-policies", "scoped managed policy", Res(ATTACHMENT, {
        "role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly"})),
    bad("iam-no-admin-managed-policies", "AdministratorAccess", Res(ATTACHMENT, {
        "role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}), expect="AdministratorAccess"),
    bad("iam-no-admin-managed-policies", "IAMFullAccess on the role", Res(ROLE, {
        "assumeRolePolicy": SAGEMAKER_TRUST, "managedPolicyArns": ["arn:aws:iam::aws:policy/IAMFullAccess"]})),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_kms_iam_rule(case: Case) -> None:
    assert_case(case)
