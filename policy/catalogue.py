"""The rule catalogue as a Markdown table, for docs/policy.md (`python -m policy.catalogue`).

tests/policy checks that the table in the docs is exactly this one, so the docs list every rule at its level.
"""

from __future__ import annotations

from ._environment import ENVIRONMENTS
from ._rule import OFF, StackRule
from .rules import ALL_RULES


def markdown_table() -> str:
    """One row per rule: name, kind, service, the ids it implements, its level in dev / staging / prod."""
    rows = ["| Rule | Kind | Service | Implements | dev / staging / prod |", "|---|---|---|---|---|"]
    for rule in ALL_RULES:
        levels = " / ".join("off" if rule.level_for(e) is OFF else rule.level_for(e).value for e in ENVIRONMENTS)
        kind = "stack" if isinstance(rule, StackRule) else "resource"
        rows.append(f"| `{rule.name}` | {kind} | {rule.service} | {', '.join(rule.ids)} | {levels} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
