"""Reading IAM-style policy documents (identity, trust, key, bucket, topic and registry policies)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._props import as_list, get, json_value


@dataclass(frozen=True)
class Statement:
    """One statement, normalised: lists everywhere, actions lower-cased."""

    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: dict[str, tuple[str, ...]]
    """Principal type (`AWS`, `Service`, `Federated`, `*`) to identifiers."""
    not_principal: bool
    conditions: dict[str, dict[str, tuple[str, ...]]]
    """Operator to condition key to values."""

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def label(self) -> str:
        return f"statement '{self.sid}'" if self.sid else "a statement"

    def grants(self, action: str) -> bool:
        """Whether the statement's actions cover `action` (wildcards expanded; NotAction counts as broad)."""
        action = action.lower()
        if self.not_actions:
            return not any(fnmatch.fnmatchcase(action, pattern) for pattern in self.not_actions)
        return any(fnmatch.fnmatchcase(action, pattern) for pattern in self.actions)

    def condition_values(self, key: str) -> list[str]:
        """Values any operator tests `key` against (case-insensitive key)."""
        found: list[str] = []
        for keys in self.conditions.values():
            for name, values in keys.items():
                if name.lower() == key.lower():
                    found.extend(values)
        return found

    @property
    def all_principals(self) -> list[str]:
        return [value for values in self.principals.values() for value in values]

    @property
    def public_principal(self) -> bool:
        """`"Principal": "*"` or `{"AWS": "*"}`: anyone, in any account."""
        return "*" in self.principals.get("*", ()) or "*" in self.principals.get("AWS", ())


def _principals(value: Any) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"*": (value,)} if value == "*" else {"AWS": (value,)}
    if isinstance(value, Mapping):
        return {str(kind): tuple(str(v) for v in as_list(value[kind])) for kind in value}
    return {}


def _conditions(value: Any) -> dict[str, dict[str, tuple[str, ...]]]:
    if not isinstance(value, Mapping):
        return {}
    return {
        str(op): {str(key): tuple(str(v) for v in as_list(keys[key])) for key in keys}
        for op, keys in ((op, value[op]) for op in value)
        if isinstance(keys, Mapping)
    }


def statements(document: Any) -> list[Statement] | None:
    """The statements of a policy document given as JSON text or a mapping; None if it is not a document."""
    document = json_value(document)
    if not isinstance(document, Mapping):
        return None
    result = []
    for raw in as_list(get(document, "Statement")):
        if not isinstance(raw, Mapping):
            continue
        principal_key = "NotPrincipal" if "NotPrincipal" in raw else "Principal"
        result.append(
            Statement(
                sid=str(get(raw, "Sid", default="")),
                effect=str(get(raw, "Effect", default="")),
                actions=tuple(str(a).lower() for a in as_list(get(raw, "Action"))),
                not_actions=tuple(str(a).lower() for a in as_list(get(raw, "NotAction"))),
                resources=tuple(str(r) for r in as_list(get(raw, "Resource"))),
                principals=_principals(get(raw, principal_key)),
                not_principal=principal_key == "NotPrincipal",
                conditions=_conditions(get(raw, "Condition")),
            )
        )
    return result


def allow_statements(document: Any) -> Iterator[Statement]:
    """Allow statements of a document (nothing if it is not a document)."""
    yield from (s for s in statements(document) or [] if s.allows)


_ACCOUNT_ROOT = re.compile(r"^(arn:aws[\w-]*:iam::(\d{12}):root|(\d{12}))$")


def account_root(principal: str) -> str | None:
    """The account id when `principal` names a whole account (`123456789012` or `arn:...:root`)."""
    match = _ACCOUNT_ROOT.match(principal)
    return (match.group(2) or match.group(3)) if match else None


def principal_account(principal: str) -> str | None:
    """Account id of an AWS principal given as an ARN or account id."""
    match = re.match(r"^arn:aws[\w-]*:[a-z0-9-]+::(\d{12}):", principal)
    if match:
        return match.group(1)
    return principal if re.fullmatch(r"\d{12}", principal) else None
