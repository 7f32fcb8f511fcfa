"""`mlops promote` and `mlops pin`: move proven artifacts to the next stage's stack file, or record a new build.

Exit codes: 0 promoted (or nothing to change), 1 a gate refused the artifact, 2 the request or a stack file is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from .._aws import AwsError, AwsSession
from .._io import fail, write_atomically
from .._promotion import (
    Promotion,
    PromotionError,
    image_problem,
    image_registry,
    prepare,
    render,
    revalidate,
    verify,
)
from .._registry import PackageRef
from .._smoke import Payload, PayloadError
from .._stackedit import StackDocument, StackEditError, unified_diff
from .._stacks import StackLoadError, load_stack
from ..settings import Environment
from .plan import ProjectDir

console = Console(soft_wrap=True, highlight=False)

DEFAULT_PAYLOAD = Path("model_code/sample.csv")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
GATE_REFUSED, BAD_REQUEST = 1, 2

Profile = Annotated[
    str | None, typer.Option("--profile", help="AWS profile (default: the standard credential chain).")
]


def _refuse(what: str, problems: list[str], code: int) -> NoReturn:
    listed = "\n".join(f"  - {p}" for p in problems)
    fail(f"{what} ({len(problems)} problem(s)); nothing was written:\n{listed}", code)


def _show_changes(promotion: Promotion) -> None:
    # Plain lines, not a table: digests and ARNs must be shown whole to be checked.
    console.print(f"pinned artifacts of {promotion.target.name}:")
    for change in promotion.changes:
        verdict = "[yellow]change[/]" if change.changed else "unchanged"
        console.print(f"  {escape(change.key)} ({verdict})\n    now:      {escape(change.before or '-')}\n"
                      f"    promoted: {escape(change.after)}")


def _warn_downgrades(promotion: Promotion) -> None:
    # Allowed (staging may be reset to an older proven version), but never silently.
    for change in promotion.changed:
        if change.model is None or change.before is None:
            continue
        old, new = PackageRef.parse(change.before), PackageRef.parse(change.after)
        if old.registry == new.registry and new.version < old.version:
            console.print(f"[yellow]warning:[/] {escape(change.label)} goes back from version {old.version} to "
                          f"{new.version} in {promotion.target.name}")


def _skipped(promotion: Promotion) -> list[str]:
    return [e.value for e in list(Environment)[promotion.source.stage + 1 : promotion.target.stage]]


def _report(promotion: Promotion, diff: str, written: bool) -> str:
    source, target = promotion.source, promotion.target
    lines = [
        f"## Promotion {source.name} -> {target.name}",
        "",
        f"`{source.name}` ({source.settings.environment.value}) to `{target.name}` "
        f"({target.settings.environment.value}); stack file `{target.path.name}`.",
        "",
        *([f"**Skipped stage(s)** (`--allow-skip`): {', '.join(_skipped(promotion))}.", ""]
          if _skipped(promotion) else []),
        "| artifact | key | before | promoted |",
        "|---|---|---|---|",
        *(f"| {c.label} | `{c.key}` | `{c.before or '-'}` | `{c.after}` |" for c in promotion.changes),
        "",
        "### Gates passed",
        "",
        *(f"- {p}" for p in promotion.passed),
        "",
    ]
    if diff:
        lines += ["### Change", "", "```diff", diff.rstrip("\n"), "```", ""]
    else:
        lines += [f"`{target.path.name}` already pins these artifacts; nothing changed.", ""]
    if not written and diff:
        lines += ["(dry run: the change above was not written)", ""]
    return "\n".join(lines)


def promote(
    source: Annotated[str, typer.Option("--from", help="Stack whose pinned artifacts are promoted.")],
    target: Annotated[str, typer.Option("--to", help="Stack of the next stage, whose stack file is updated.")],
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Promote only this model (repeatable); default: all.")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Version to promote when the source stack pins none.")
    ] = None,
    latest_approved: Annotated[
        bool, typer.Option("--latest-approved", help="For models the source pins no version of: the newest Approved.")
    ] = False,
    image_only: Annotated[bool, typer.Option("--image-only", help="Promote the image digest alone.")] = False,
    check_endpoint: Annotated[
        bool, typer.Option("--check-endpoint", help="Also require the source endpoints InService and answering.")
    ] = False,
    payload: Annotated[
        Path | None, typer.Option("--payload", help="CSV sample for --check-endpoint.", dir_okay=False)
    ] = None,
    allow_skip: Annotated[bool, typer.Option("--allow-skip", help="Allow skipping a stage (dev -> prod).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and show the change; write nothing.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write a Markdown record (for the PR body).", dir_okay=False)
    ] = None,
    profile: Profile = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Promote the pinned image digest and model versions of one stage's stack file to the next stage's.

    Checks, against AWS: each model version exists, belongs to its model's group and is Approved; the image is in
    its registry; with --check-endpoint, the source endpoints are InService and answer a sample. Then rewrites
    only the pinned values of the target stack file, atomically, and prints the diff.
    """
    try:
        promotion = prepare(project_dir, source, target, model, version, latest_approved, image_only, allow_skip)
    except PromotionError as exc:
        _refuse(f"cannot promote {source} -> {target}", exc.problems, BAD_REQUEST)
    if _skipped(promotion):
        console.print(f"[yellow]warning:[/] --allow-skip: {target} gets artifacts that skipped "
                      f"{', '.join(_skipped(promotion))}")
    try:
        sample = Payload.read(payload or project_dir / DEFAULT_PAYLOAD) if check_endpoint else None
        session = AwsSession(profile)
        console.print(f"promoting {source} ({promotion.source.settings.environment.value}) -> {target} "
                      f"({promotion.target.settings.environment.value}), checking as "
                      f"{session.caller_arn(promotion.source.settings.region)}")
    except (PayloadError, AwsError) as exc:
        fail(str(exc), BAD_REQUEST)
    try:
        verify(project_dir, session, promotion, sample)
    except PromotionError as exc:
        _refuse(f"promotion {source} -> {target} refused", exc.problems, GATE_REFUSED)
    for passed in promotion.passed:
        console.print(f"[green]ok[/] {escape(passed)}")
    _show_changes(promotion)
    _warn_downgrades(promotion)
    diff = _apply(project_dir, promotion, dry_run)
    if report is not None:
        write_atomically(report, _report(promotion, diff, written=not dry_run))


def _apply(project_dir: Path, promotion: Promotion, dry_run: bool) -> str:
    """Write the changed pins into the target file (unless a dry run); return the diff shown."""
    path = promotion.target.path
    if not promotion.changed:
        console.print(f"{escape(str(path))} already pins these artifacts; nothing to change")
        return ""
    try:
        before, after = render(project_dir, promotion)
    except (StackEditError, PromotionError) as exc:
        fail(str(exc), BAD_REQUEST)
    diff = unified_diff(_shown(path, project_dir), before, after)
    typer.echo(diff, nl=False)
    if dry_run:
        console.print("dry run: nothing written")
    else:
        _write(path, before, after)
        console.print(f"wrote {escape(str(path))}")
    return diff


def _shown(path: Path, project_dir: Path) -> Path:
    """A stack file's path as the diff names it: relative to the project, like `git diff`."""
    try:
        return path.resolve().relative_to(project_dir.resolve())
    except ValueError:
        return path


def _write(path: Path, before: str, after: str) -> None:
    # Someone (or another CI job) may have edited the file since we read it: never overwrite their change.
    try:
        if path.read_bytes().decode("utf-8") != before:
            fail(f"{path} changed while the promotion ran; nothing was written, run it again", BAD_REQUEST)
        write_atomically(path, after)
    except OSError as exc:
        fail(f"could not write {path}: {exc}; the file is unchanged", BAD_REQUEST)


def pin(
    stack: Annotated[str, typer.Option("--stack", "-s", help="The first-stage (dev) stack that gets the new build.")],
    image_digest: Annotated[str, typer.Option("--image-digest", help="Digest CI pushed (sha256:...).")],
    verify_image: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Check that the registry holds the image.")
    ] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the change; write nothing.")] = False,
    profile: Profile = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Record a freshly built image digest in the first stage's stack file (CI runs this after the build).

    Later stages never get a digest this way: they get what the previous stage proved, through `mlops promote`.
    """
    if not DIGEST_RE.match(image_digest):
        fail(f"--image-digest: '{image_digest}' is not a digest (sha256: and 64 lowercase hex digits)", BAD_REQUEST)
    try:
        loaded = load_stack(project_dir, stack)
    except StackLoadError as exc:
        fail(str(exc), BAD_REQUEST)
    if loaded.stage != 0:
        fail(f"stack '{stack}' is {loaded.settings.environment.value}: its pins change only through "
             f"`mlops promote` from the previous stage", BAD_REQUEST)
    registry = image_registry(loaded)
    if verify_image:
        try:
            problem = image_problem(AwsSession(profile), registry, image_digest)
        except AwsError as exc:
            fail(str(exc), BAD_REQUEST)
        if problem is not None:
            fail(problem, GATE_REFUSED)
    try:
        document = StackDocument.load(loaded.path, loaded.settings.project)
        if not document.set_image_digest(image_digest):
            console.print(f"{loaded.path} already pins {image_digest}; nothing to change")
            return
        after = document.render()
        revalidate(project_dir, loaded, after)
    except (StackEditError, PromotionError) as exc:
        fail(str(exc), BAD_REQUEST)
    typer.echo(unified_diff(_shown(loaded.path, project_dir), document.original, after), nl=False)
    if dry_run:
        console.print("dry run: nothing written")
        return
    _write(loaded.path, document.original, after)
    console.print(f"wrote {loaded.path} (image {registry}@{image_digest})")
