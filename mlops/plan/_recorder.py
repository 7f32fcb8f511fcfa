"""A MockMonitor that records every registration with its parent, dependencies and options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.sync_await import _ensure_event_loop

from .._json import decode_json_text

SECRET_SHOWN_AS = "[secret]"


@dataclass
class RecordedResource:
    """One registration as the engine would receive it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    provider: str | None = None
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The plan contract's shape of this resource."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "inputs": self.inputs,
            "dependencies": self.dependencies,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "provider": self.provider,
        }


UNKNOWN_SHOWN_AS = "[unknown]"


def to_plain(value: Any) -> Any:
    """JSON-ready form of a deserialized property: secrets masked, assets described, whole floats as ints."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            # Secret values arrive in the engine's secret envelope; they are shown masked, never in clear.
            return SECRET_SHOWN_AS
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, pulumi.FileAsset | pulumi.FileArchive):
        return {"asset": "file", "path": str(value.path)}
    if isinstance(value, pulumi.StringAsset):
        return {"asset": "string", "text": value.text}
    if isinstance(value, pulumi.AssetArchive):
        return {"asset": "archive", "assets": {k: to_plain(v) for k, v in value.assets.items()}}
    if isinstance(value, pulumi.RemoteAsset | pulumi.RemoteArchive):
        return {"asset": "remote", "uri": value.uri}
    if value == rpc.UNKNOWN:
        return UNKNOWN_SHOWN_AS
    if isinstance(value, float) and value.is_integer():
        # The wire format has only doubles; integers come back as floats.
        return int(value)
    return value


def _inputs_of(struct: Any, type_token: str) -> dict[str, Any]:
    _ensure_event_loop()
    # keep_internal keeps the secret envelopes so to_plain can mask them.
    inputs = to_plain(rpc.deserialize_properties(struct, keep_unknowns=True, keep_internal=True))
    if type_token.startswith("pulumi:providers:"):
        # Provider inputs travel as JSON text (e.g. defaultTags); decode them so rules and readers see objects.
        inputs = {k: decode_json_text(v) for k, v in inputs.items()}
    return inputs


class RecordingMonitor(MockMonitor):
    """Records each RegisterResource (including the root stack) in registration order."""

    def __init__(self, mocks: Any) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the parent's whole type chain, except the root stack's."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        # A provider reference is "<urn>::<id>"; the URN itself contains "::", the id is the last part.
        provider = request.provider.rsplit("::", 1)[0] if request.provider else None
        self.recorded.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                inputs=_inputs_of(request.object, request.type) if request.type != "pulumi:pulumi:Stack" else {},
                dependencies=sorted(set(request.dependencies)),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                provider=provider,
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            )
        )
        return response
