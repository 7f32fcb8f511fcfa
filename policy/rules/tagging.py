"""Tagging: every taggable AWS resource carries the standard tags, from its provider or itself.

The program puts the standard tags in the AWS provider's `defaultTags`, so they are inputs of the
`pulumi:providers:aws` resource, not of each resource. These rules therefore join each resource to its
provider (`args.provider`) and count the union of the provider's default tags and the resource's own tags.
A resource created with another provider, or with the default provider, has to carry the tags itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pulumi_policy import ResourceValidationArgs, Severity

from .._environment import ENVIRONMENT_TAG, ENVIRONMENTS, known, provider_default_tags
from .._props import tags_of
from .._rule import resource_rule
from ._taggable import TAGGABLE

REQUIRED_TAGS = ("project", "environment", "owner", "cost-center")


def effective_tags(args: ResourceValidationArgs) -> Mapping[str, str]:
    """The tags AWS will put on the resource: the provider's default tags overlaid by its own."""
    return {**provider_default_tags(args.provider), **tags_of(args.props)}


@resource_rule(
    name="aws-required-tags",
    ids=("Config:required-tags", "SageMaker.6", "EKS.6"),
    summary=f"Taggable AWS resources carry the tags {', '.join(REQUIRED_TAGS)} (provider default tags count)",
    fix="Create the resource with the stack's AWS provider (opts providers=/provider=, whose default_tags hold the "
    "standard tags), or set the missing tags on it",
    types=TAGGABLE,
    severity=Severity.MEDIUM,
)
def required_tags(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    tags = effective_tags(args)
    missing = [tag for tag in REQUIRED_TAGS if not tags.get(tag, "").strip()]
    if missing:
        provider = args.provider.name if args.provider is not None else "the default provider"
        yield f"missing tags {', '.join(missing)} (provider: {provider})"


@resource_rule(
    name="aws-environment-tag-matches",
    ids=("REF-tagging",),
    summary="The `environment` tag names the environment the stack is checked as (dev, staging or prod)",
    fix="Set mlops:environment in the stack file; it becomes the provider's environment tag",
    types=TAGGABLE,
    severity=Severity.MEDIUM,
)
def environment_tag_matches(args: ResourceValidationArgs, env: str) -> Iterator[str]:
    value = effective_tags(args).get(ENVIRONMENT_TAG)
    if value is None:
        return  # aws-required-tags reports the missing tag
    if known(value) is None:
        yield f"environment tag '{value}' is not one of {', '.join(ENVIRONMENTS)}"
    elif known(value) != env:
        yield f"environment tag '{value}' but the stack is checked as {env}"
