"""What differs between two plans: resources only in one, and inputs that differ."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .._json import decode_json_text
from ._run import Plan

STACK_TOKEN = "<stack>"


@dataclass
class InputChange:
    """One input value that differs between the two plans (after the stack names are set aside)."""

    path: str
    before: Any
    after: Any


@dataclass
class PlanDiff:
    """The differences between plan A and plan B, keyed by stack-neutral resource identity."""

    stack_a: str
    stack_b: str
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    changed: dict[str, list[InputChange]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when the two plans declare the same resources with the same inputs."""
        return not (self.only_in_a or self.only_in_b or self.changed)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form of the diff."""
        return {
            "stacks": [self.stack_a, self.stack_b],
            "onlyIn": {self.stack_a: self.only_in_a, self.stack_b: self.only_in_b},
            "changed": {
                key: [{"path": c.path, self.stack_a: c.before, self.stack_b: c.after} for c in changes]
                for key, changes in self.changed.items()
            },
        }


def _neutral(text: str, plan: Plan) -> str:
    # Names embed "<project>-<stack>" and URNs "::<stack>::"; replace both so stacks line up.
    return text.replace(f"{plan.project}-{plan.stack}", f"{plan.project}-{STACK_TOKEN}").replace(
        f"urn:pulumi:{plan.stack}::", f"urn:pulumi:{STACK_TOKEN}::"
    )


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    value = decode_json_text(value)  # policy documents and pipeline definitions are JSON text
    if isinstance(value, dict) and value:
        for k in sorted(value):
            _flatten(value[k], f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value


def _index(plan: Plan) -> dict[str, dict[str, Any]]:
    index: dict[str, dict[str, Any]] = {}
    for r in plan.resources:
        flat: dict[str, Any] = {}
        _flatten(json.loads(_neutral(json.dumps(r.inputs), plan)), "", flat)
        # Resource options matter to a promotion too: losing `protect` in prod is a change worth seeing.
        flat["(protect)"] = r.protect
        flat["(retainOnDelete)"] = r.retain_on_delete
        index[_neutral(r.urn, plan)] = flat
    return index


def diff_plans(a: Plan, b: Plan) -> PlanDiff:
    """Compare two plans of the same project (usually two stacks, or one stack before and after an edit)."""
    left, right = _index(a), _index(b)
    result = PlanDiff(a.stack, b.stack)
    result.only_in_a = sorted(set(left) - set(right))
    result.only_in_b = sorted(set(right) - set(left))
    for key in sorted(set(left) & set(right)):
        paths = sorted(set(left[key]) | set(right[key]))
        changes = [
            InputChange(p, left[key].get(p), right[key].get(p))
            for p in paths
            if left[key].get(p) != right[key].get(p)
        ]
        if changes:
            result.changed[key] = changes
    return result
