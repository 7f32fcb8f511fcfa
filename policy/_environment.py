"""Which environment (dev, staging, prod) a resource or stack belongs to, as the rules see it.

Precedence, first match wins:
1. the pack config property `environment` (`pulumi preview --policy-pack-config`, or `mlops check`);
2. the stack tag `environment` (Pulumi Cloud / self-managed backends with stack tags);
3. the `environment` tag in the AWS provider's `defaultTags` (set from `mlops:environment` by the program);
4. the stack config `<project>:environment` the analyzer received at start (`PULUMI_CONFIG`);
5. otherwise `prod`: an unknown environment is held to the strictest standard, never silently relaxed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyProviderResource, ResourceValidationArgs, StackValidationArgs

from ._props import get, json_value

ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
STRICTEST = "prod"
ENVIRONMENT_TAG = "environment"
AWS_PROVIDER = "pulumi:providers:aws"


def known(value: Any) -> str | None:
    """The environment name if `value` is one of ours, else None."""
    if isinstance(value, str) and value.strip().lower() in ENVIRONMENTS:
        return value.strip().lower()
    return None


def provider_default_tags(provider: PolicyProviderResource | None) -> dict[str, str]:
    """Tags the AWS provider adds to every resource it manages (`defaultTags.tags`)."""
    if provider is None:
        return {}
    # Provider inputs travel as JSON text in the engine; the offline plan decodes them. Accept both.
    default_tags = json_value(get(provider.props, "defaultTags"))
    tags = get(default_tags, "tags")
    if not isinstance(tags, Mapping):
        return {}
    return {str(key): str(tags[key]) for key in tags}


def startup_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The stack's `<project>:environment` from the config the CLI hands a policy pack in `PULUMI_CONFIG`."""
    environ = os.environ if environ is None else environ
    try:
        config = json.loads(environ.get("PULUMI_CONFIG") or "{}")
    except json.JSONDecodeError:
        return None
    if not isinstance(config, dict):
        return None
    project = environ.get("PULUMI_PROJECT")
    keys = [f"{project}:environment"] if project else []
    keys.append("mlops:environment")
    for key in keys:
        if known(config.get(key)):
            return known(config.get(key))
    return None


def _first(candidates: Iterable[str | None]) -> str:
    for candidate in candidates:
        if candidate is not None:
            return candidate
    return STRICTEST


def resource_environment(args: ResourceValidationArgs, fallback: str | None) -> str:
    """Environment of the resource under validation."""
    return _first(
        (
            known(args.get_config().get("environment")),
            known(args.stack_tags.get(ENVIRONMENT_TAG)),
            known(provider_default_tags(args.provider).get(ENVIRONMENT_TAG)),
            fallback,
        )
    )


def stack_environment(args: StackValidationArgs, fallback: str | None) -> str:
    """Environment of the stack under validation; its AWS providers' tags must agree to count."""
    tagged = {
        known(get(json_value(get(r.props, "defaultTags")), "tags", ENVIRONMENT_TAG))
        for r in args.resources
        if r.resource_type == AWS_PROVIDER
    } - {None}
    return _first(
        (
            known(args.get_config().get("environment")),
            known(args.stack_tags.get(ENVIRONMENT_TAG)),
            tagged.pop() if len(tagged) == 1 else None,
            fallback,
        )
    )
