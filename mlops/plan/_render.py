"""Rendering a plan: a tree or table for people, a Mermaid diagram for the README."""

from __future__ import annotations

from collections import defaultdict

from rich.table import Table
from rich.tree import Tree

from ._recorder import RecordedResource
from ._run import Plan

STACK_TYPE = "pulumi:pulumi:Stack"


def _label(r: RecordedResource) -> str:
    flags = [f for f, on in (("protect", r.protect), ("retain", r.retain_on_delete)) if on]
    suffix = f" [yellow]({', '.join(flags)})[/]" if flags else ""
    style = "bold cyan" if not r.custom else "white"
    return f"[{style}]{r.name}[/] [dim]{r.type}[/]{suffix}"


def tree(plan: Plan) -> Tree:
    """Resources grouped under their parent components, in registration order."""
    children: dict[str | None, list[RecordedResource]] = defaultdict(list)
    for r in plan.resources:
        children[r.parent].append(r)
    roots = children[None]
    top = Tree(f"[bold]{plan.project}/{plan.stack}[/] - {len(plan.resources)} resources")

    def add(node: Tree, resource: RecordedResource) -> None:
        branch = node.add(_label(resource))
        for child in sorted(children[resource.urn], key=lambda c: (c.custom, c.name)):
            add(branch, child)

    for root in roots:
        for child in sorted(children[root.urn], key=lambda c: (c.custom, c.name)):
            add(top, child)
    return top


def table(plan: Plan) -> Table:
    """One row per resource: type, name, parent, options."""
    by_urn = plan.by_urn()
    t = Table(title=f"{plan.project}/{plan.stack}: {len(plan.resources)} resources")
    for column in ("type", "name", "parent", "protect", "retainOnDelete"):
        t.add_column(column)
    for r in plan.resources:
        parent = by_urn[r.parent].name if r.parent in by_urn else ""
        t.add_row(r.type, r.name, parent, "yes" if r.protect else "", "yes" if r.retain_on_delete else "")
    return t



def mermaid(plan: Plan) -> str:
    """A flowchart of the components (nested as subgraphs) and the dependencies between them."""
    by_urn = plan.by_urn()
    components = [r for r in plan.resources if not r.custom and r.type != STACK_TYPE]
    ids = {r.urn: f"c{i}" for i, r in enumerate(components)}

    def owner(urn: str | None) -> str | None:
        # The nearest component that contains this resource.
        while urn is not None and urn not in ids:
            urn = by_urn[urn].parent if urn in by_urn else None
        return urn

    counts: dict[str, int] = defaultdict(int)
    for r in plan.resources:
        if r.custom and (o := owner(r.parent)) is not None:
            counts[o] += 1
    children: dict[str | None, list[RecordedResource]] = defaultdict(list)
    for c in components:
        children[owner(c.parent)].append(c)

    lines = ["flowchart LR"]

    def emit(component: RecordedResource, depth: int) -> None:
        pad = "  " * depth
        label = f"{component.name}<br/><small>{component.type} · {counts[component.urn]} resources</small>"
        if children[component.urn]:
            lines.append(f'{pad}subgraph {ids[component.urn]}["{label}"]')
            for child in children[component.urn]:
                emit(child, depth + 1)
            lines.append(f"{pad}end")
        else:
            lines.append(f'{pad}{ids[component.urn]}["{label}"]')

    for top in children[None]:
        emit(top, 1)
    edges: set[tuple[str, str]] = set()
    for r in plan.resources:
        source = owner(r.urn if not r.custom else r.parent)
        for dep in r.dependencies:
            target = owner(dep if dep in ids else by_urn[dep].parent if dep in by_urn else None)
            if source and target and source != target and not _contains(by_urn, source, target, ids):
                edges.add((ids[source], ids[target]))
    lines += [f"  {a} --> {b}" for a, b in sorted(edges)]
    return "\n".join(lines) + "\n"


def _contains(by_urn: dict[str, RecordedResource], outer: str, inner: str, ids: dict[str, str]) -> bool:
    # A component depending on its own sub-component (or the reverse) is containment, not an edge.
    for a, b in ((outer, inner), (inner, outer)):
        urn: str | None = b
        while urn is not None:
            if urn == a:
                return True
            urn = by_urn[urn].parent if urn in by_urn else None
    return False
