"""KMS: customer-managed keys, their policies, and identity policies that could use every key."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from .._graph import attached, of_types
from .._iam import allow_statements
from .._props import get, is_false, is_set, is_true, number
from .._rule import ADVISORY_IN_DEV, resource_rule, stack_rule
from .iam import IDENTITY_POLICY_TYPES, identity_documents

KEYS = ("aws:kms/key:Key",)
KEY_POLICIES = ("aws:kms/keyPolicy:KeyPolicy",)
ROTATABLE_SPEC = "SYMMETRIC_DEFAULT"
DECRYPT_ACTIONS = ("kms:decrypt", "kms:reencryptfrom")
MIN_DELETION_WINDOW_DAYS = 30


@resource_rule(
    name="kms-key-rotation",
    ids=("CKV_AWS_7", "KMS.4", "AG:cmk-backing-key-rotation-enabled"),
    summary="Symmetric encryption keys rotate their key material automatically",
    fix="Set enable_key_rotation=True on aws.kms.Key (optionally rotation_period_in_days)",
    types=KEYS,
)
def key_rotation(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    spec = get(args.props, "customerMasterKeySpec", default=ROTATABLE_SPEC)
    usage = get(args.props, "keyUsage", default="ENCRYPT_DECRYPT")
    # AWS rotates only symmetric encryption keys; asymmetric, HMAC and imported keys cannot rotate.
    if spec == ROTATABLE_SPEC and usage == "ENCRYPT_DECRYPT" and not is_true(get(args.props, "enableKeyRotation")):
        yield "symmetric key without automatic rotation"


@stack_rule(
    name="kms-key-has-policy",
    ids=("CKV2_AWS_64",),
    summary="Every key has an explicit key policy (its own `policy` or a connected KeyPolicy)",
    fix="Pass policy=<document naming the account and the services that use the key> to aws.kms.Key",
    severity=Severity.MEDIUM,
)
def key_has_policy(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for key in of_types(args.resources, KEYS):
        if is_set(key.props, "policy"):
            continue
        if not attached(args.resources, key, KEY_POLICIES, "keyId", ()):
            yield key, f"key {key.name} relies on the default key policy"


@resource_rule(
    name="kms-key-policy-not-public",
    ids=("CKV_AWS_33", "KMS.5"),
    summary="No key policy allows anyone (Principal '*') without a condition",
    fix="Name the account root, roles or services as principals; keep '*' only with a restricting Condition",
    types=KEYS + KEY_POLICIES,
)
def key_policy_not_public(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for st in allow_statements(get(args.props, "policy")):
        if st.public_principal and not st.conditions:
            yield f"{st.label} lets any principal use the key"


@resource_rule(
    name="kms-key-no-lockout-bypass",
    ids=("PCP:aws-kms-key-disallow-bypass-policy-lockout-safety-check",),
    summary="Key policies keep KMS's lockout safety check",
    fix="Leave bypass_policy_lockout_safety_check unset or False",
    types=KEYS + KEY_POLICIES,
)
def key_no_lockout_bypass(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if is_true(get(args.props, "bypassPolicyLockoutSafetyCheck")):
        yield "bypass_policy_lockout_safety_check is on: a bad policy can make the key unmanageable"


@resource_rule(
    name="kms-key-enabled",
    ids=("CKV_AWS_227", "KMS.3"),
    summary="Keys are enabled (a disabled key makes everything encrypted with it unreadable)",
    fix="Leave is_enabled unset or True",
    types=KEYS,
)
def key_enabled(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if is_false(get(args.props, "isEnabled")):
        yield "key is disabled"


@resource_rule(
    name="kms-key-deletion-window",
    ids=("KMS.3", "REF-16"),
    summary=f"Keys wait the full {MIN_DELETION_WINDOW_DAYS} days before deletion, time to notice a mistake",
    fix=f"Set deletion_window_in_days={MIN_DELETION_WINDOW_DAYS} (or leave it unset: the default is 30)",
    types=KEYS,
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def key_deletion_window(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    days = number(get(args.props, "deletionWindowInDays"))
    if days is not None and days < MIN_DELETION_WINDOW_DAYS:
        yield f"deletion window is {int(days)} days"


@resource_rule(
    name="iam-no-kms-decrypt-on-all-keys",
    ids=("KMS.1", "KMS.2", "CKV_AWS_356"),
    summary="Identity policies do not allow kms:Decrypt or kms:ReEncryptFrom on every key",
    fix="Scope KMS statements to the key ARNs the role needs (e.g. the data key's ARN)",
    types=IDENTITY_POLICY_TYPES,
)
def no_kms_decrypt_on_all_keys(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for where, document in identity_documents(args.props, args.resource_type):
        for st in allow_statements(document):
            granted = [a for a in DECRYPT_ACTIONS if st.grants(a)]
            if granted and "*" in st.resources:
                yield f"{where}: {st.label} allows {', '.join(granted)} on Resource '*'"
