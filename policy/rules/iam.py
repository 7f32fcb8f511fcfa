"""IAM: identity policies (least privilege) and role trust policies (who may assume)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .._iam import Statement, account_root, allow_statements
from .._props import as_list, get
from .._rule import resource_rule

ROLE = "aws:iam/role:Role"
IDENTITY_POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    ROLE,
)
ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    ROLE,
)
FORBIDDEN_MANAGED_POLICIES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")

# Actions that cannot be scoped to a resource ARN, so `Resource: "*"` is the only way to grant them. Reads
# that only list or describe are accepted too; everything else must name its resources.
UNSCOPABLE_ACTIONS = (
    "ecr:getauthorizationtoken",
    "cloudwatch:putmetricdata",
    "cloudwatch:getmetricdata",
    "cloudwatch:getmetricstatistics",
    "sts:getcalleridentity",
    "s3:listallmybuckets",
    "sagemaker:search",
    "xray:puttracesegments",
    "xray:puttelemetryrecords",
    # SageMaker jobs in a VPC create and remove their ENIs through the execution role.
    "ec2:createnetworkinterface",
    "ec2:createnetworkinterfacepermission",
    "ec2:deletenetworkinterface",
    "ec2:deletenetworkinterfacepermission",
)
READ_ONLY_VERBS = ("list", "describe")

# Rhino Security Labs' escalation paths, as Checkov's CKV_AWS_286 lists them (PassRole has its own rule).
ESCALATION_ACTIONS = (
    "iam:createpolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:attachuserpolicy",
    "iam:attachgrouppolicy",
    "iam:attachrolepolicy",
    "iam:putuserpolicy",
    "iam:putgrouppolicy",
    "iam:putrolepolicy",
    "iam:addusertogroup",
    "iam:updateassumerolepolicy",
    "lambda:updatefunctioncode",
    "glue:updatedevendpoint",
)
GITHUB_OIDC = "token.actions.githubusercontent.com"
_SAFE_GITHUB_SUB = re.compile(r"^repo:[^*/:]+/[^*/:]+:.+$")


def identity_documents(props: Mapping[str, Any], resource_type: str) -> list[tuple[str, Any]]:
    """(where, document) for every identity policy document the resource carries."""
    if resource_type == ROLE:
        return [
            (f"inline policy {get(p, 'name', default='?')}", get(p, "policy"))
            for p in as_list(get(props, "inlinePolicies"))
        ]
    return [("policy", get(props, "policy"))]


def _statements(args: ResourceValidationArgs) -> Iterator[tuple[str, Statement]]:
    for where, document in identity_documents(args.props, args.resource_type):
        for st in allow_statements(document):
            yield where, st


@resource_rule(
    name="iam-no-admin-access",
    ids=("CKV_AWS_62", "IAM.1", "CKV2_AWS_40"),
    summary="No identity policy grants full administrator access (Action '*' on Resource '*')",
    fix="List the actions and resource ARNs the role needs; build the document with aws.iam.get_policy_document",
    types=IDENTITY_POLICY_TYPES,
    severity=Severity.CRITICAL,
)
def no_admin_access(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for where, st in _statements(args):
        if {"*", "*:*"} & set(st.actions) and "*" in st.resources:
            yield f"{where}: {st.label} allows every action on every resource"


@resource_rule(
    name="iam-no-wildcard-actions",
    ids=("CKV_AWS_63", "IAM.21"),
    summary="Identity policies name their actions: no Action '*', no 'service:*', no Allow with NotAction",
    fix="Replace '*' / 'service:*' with the specific actions (e.g. s3:GetObject, s3:PutObject)",
    types=IDENTITY_POLICY_TYPES,
)
def no_wildcard_actions(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for where, st in _statements(args):
        wild = [a for a in st.actions if a == "*" or a.endswith(":*")]
        if wild:
            yield f"{where}: {st.label} allows {', '.join(wild)}"
        if st.not_actions:
            yield f"{where}: {st.label} allows everything except NotAction {', '.join(st.not_actions)}"


def _unscopable(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    if "*" in verb and not verb.startswith(READ_ONLY_VERBS):
        return False
    return verb.startswith(READ_ONLY_VERBS) or any(fnmatch.fnmatchcase(action, a) for a in UNSCOPABLE_ACTIONS)


@resource_rule(
    name="iam-no-wildcard-resource",
    ids=("CKV_AWS_355", "CKV_AWS_290"),
    summary="Actions that can be scoped to resources are not granted on Resource '*' (unless a Condition scopes "
    "the statement)",
    fix="Name the resource ARNs (bucket/prefix, key, pipeline, model package group) or add a Condition",
    types=IDENTITY_POLICY_TYPES,
)
def no_wildcard_resource(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for where, st in _statements(args):
        if "*" not in st.resources or st.conditions:
            continue
        scopable = [a for a in st.actions if not _unscopable(a)]
        if scopable:
            yield f"{where}: {st.label} allows {', '.join(scopable)} on Resource '*'"


@resource_rule(
    name="iam-no-privilege-escalation",
    ids=("CKV_AWS_286",),
    summary="Identity policies do not grant actions that let a principal raise its own privileges on any resource",
    fix="Remove the IAM write actions, or scope them to specific ARNs with a permissions boundary condition",
    types=IDENTITY_POLICY_TYPES,
    severity=Severity.CRITICAL,
)
def no_privilege_escalation(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for where, st in _statements(args):
        if "*" not in st.resources:
            continue
        granted = [a for a in ESCALATION_ACTIONS if st.grants(a)]
        if granted:
            yield f"{where}: {st.label} allows {', '.join(granted)} on Resource '*'"


@resource_rule(
    name="iam-passrole-scoped",
    ids=("CKV_AWS_286", "REF-44"),
    summary="iam:PassRole names the roles it passes and the service they are passed to",
    fix="Resource = the execution role ARNs; Condition {'StringEquals': {'iam:PassedToService': "
    "'sagemaker.amazonaws.com'}}",
    types=IDENTITY_POLICY_TYPES,
)
def passrole_scoped(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for where, st in _statements(args):
        if not st.grants("iam:passrole"):
            continue
        broad = [r for r in st.resources if r == "*" or r.endswith(":role/*") or ":iam::*:" in r]
        if broad:
            yield f"{where}: {st.label} passes any role ({', '.join(broad)})"
        if not st.condition_values("iam:PassedToService"):
            yield f"{where}: {st.label} passes roles to any service (no iam:PassedToService condition)"


def _trust_statements(args: ResourceValidationArgs) -> Iterator[Statement]:
    yield from allow_statements(get(args.props, "assumeRolePolicy"))


@resource_rule(
    name="iam-role-trust-not-public",
    ids=("CKV_AWS_60",),
    summary="No role can be assumed by anyone (Principal '*') without a condition",
    fix="Trust the service (e.g. sagemaker.amazonaws.com) or named role ARNs instead of '*'",
    types=(ROLE,),
    severity=Severity.CRITICAL,
)
def role_trust_not_public(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for st in _trust_statements(args):
        if st.public_principal and not st.conditions:
            yield f"trust policy {st.label} lets any principal assume the role"


@resource_rule(
    name="iam-role-trust-not-whole-account",
    ids=("CKV_AWS_61",),
    summary="Roles trust named principals, not every identity of an account, unless a condition narrows it",
    fix="Trust the specific role ARNs, or add a Condition such as aws:PrincipalArn",
    types=(ROLE,),
)
def role_trust_not_whole_account(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for st in _trust_statements(args):
        accounts = [a for a in (account_root(p) for p in st.principals.get("AWS", ())) if a]
        if accounts and not st.conditions:
            yield f"trust policy {st.label} trusts all of account {', '.join(accounts)}"


@resource_rule(
    name="iam-github-oidc-trust-scoped",
    ids=("CKV_AWS_358", "CKV_AWS_393"),
    summary="Roles assumed by GitHub Actions (OIDC) are limited to one repository by a `sub` condition",
    fix="Condition {'StringEquals': {'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', "
    "'token.actions.githubusercontent.com:sub': 'repo:<org>/<repo>:environment:<env>'}}",
    types=(ROLE,),
    severity=Severity.CRITICAL,
)
def github_oidc_trust_scoped(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for st in _trust_statements(args):
        if not any(GITHUB_OIDC in p for p in st.principals.get("Federated", ())):
            continue
        subjects = st.condition_values(f"{GITHUB_OIDC}:sub")
        if not subjects:
            yield f"trust policy {st.label} lets any GitHub repository assume the role (no :sub condition)"
        for subject in subjects:
            if not _SAFE_GITHUB_SUB.match(subject):
                yield f"trust policy {st.label} has a :sub condition '{subject}' that matches other repositories"


@resource_rule(
    name="iam-no-admin-managed-policies",
    ids=("CKV2_AWS_56", "IAM.1"),
    summary="No role, user or group gets AdministratorAccess, IAMFullAccess or PowerUserAccess",
    fix="Attach a customer-managed policy with the actions the workload needs",
    types=ATTACHMENT_TYPES,
    severity=Severity.CRITICAL,
)
def no_admin_managed_policies(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    arns = [
        get(args.props, "policyArn"),
        *as_list(get(args.props, "managedPolicyArns")),
        *as_list(get(args.props, "policyArns")),
    ]
    for arn in arns:
        if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in FORBIDDEN_MANAGED_POLICIES and ":aws:policy/" in arn:
            yield f"attaches {arn}"
