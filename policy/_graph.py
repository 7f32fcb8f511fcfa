"""Joining resources of a stack, the way Checkov's graph checks join a bucket to its side resources.

A side resource (e.g. `BucketVersioning`) points at its target (the bucket) through one input (`bucket`).
When that input is an output of the target, the engine records a property dependency, which is known even
during a preview of a new stack (when the bucket's name itself is not). When the input is a plain string,
it is compared with the names the target is known by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError

from ._props import get


def of_types(resources: Iterable[PolicyResource], types: Iterable[str]) -> list[PolicyResource]:
    """Resources whose type token is one of `types`, in stack order."""
    wanted = set(types)
    return [r for r in resources if r.resource_type in wanted]


def names_of(resource: PolicyResource, name_props: Iterable[str]) -> set[str]:
    """The literal names a resource may be referred to by: its name-like inputs."""
    names = set()
    for prop in name_props:
        try:
            value = get(resource.props, prop)
        except UnknownValueError:
            continue  # a name not known yet cannot match a literal; property dependencies still join
        if isinstance(value, str) and value:
            names.add(value)
    return names


def refers_to(side: PolicyResource, prop: str, target: PolicyResource, target_names: Iterable[str]) -> bool:
    """Whether the side resource's `prop` input designates `target`."""
    deps = side.property_dependencies.get(prop) or []
    if deps:
        return any(dep.urn == target.urn for dep in deps)
    value = get(side.props, prop)
    if not isinstance(value, str) or not value:
        return False
    names = set(target_names)
    # ARNs name a bucket as arn:aws:s3:::<name>; other inputs take the bare name.
    return value in names or value.rsplit(":", 1)[-1] in names


def attached(
    resources: Iterable[PolicyResource],
    target: PolicyResource,
    side_types: Iterable[str],
    prop: str,
    target_name_props: Iterable[str],
) -> list[PolicyResource]:
    """Side resources of the given types whose `prop` designates `target`."""
    target_names = names_of(target, target_name_props)
    return [s for s in of_types(resources, side_types) if refers_to(s, prop, target, target_names)]


def prop(resource: PolicyResource, *path: str | int, default: Any = None) -> Any:
    """Shorthand for reading a nested input of a stack resource."""
    return get(resource.props, *path, default=default)


def as_mapping(value: Any) -> Mapping[str, Any]:
    """A mapping, or an empty one."""
    return value if isinstance(value, Mapping) else {}
