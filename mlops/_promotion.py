"""Promotion of the pinned artifacts (image digest, model versions) from one stack file to the next stage's.

Three steps, each refusing with every problem it finds before the next one starts:
1. `prepare` (offline): both stack files valid, stages in order, the artifacts to move chosen, registries line up.
2. `verify` (boto3, source side): each model version exists, is in its model's group and Approved; the image
   digest is in the registry; optionally the source endpoints are InService and answer a sample.
3. `render`: the target stack file with only the pinned lines changed, re-validated like `mlops plan` would.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import botocore.exceptions

from ._aws import AwsError, AwsSession, aws_call, error_code
from ._registry import PackageRef, Registry, describe_version, gate_problem, latest_approved, registry_of
from ._smoke import Payload, SmokeResult, smoke_endpoint
from ._stackedit import StackDocument
from ._stacks import LoadedStack, StackLoadError, existing_stacks, load_stack
from .settings import PLACEHOLDER_ACCOUNT_ID, Environment, ModelSettings

STAGE_ORDER = " -> ".join(e.value for e in Environment)


class PromotionError(Exception):
    """The promotion is refused; `problems` lists every reason, each naming the stack file or artifact."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ModelPick:
    """A model to promote and how its version is chosen when the source stack pins none."""

    model: ModelSettings
    version: int | None = None
    latest_approved: bool = False


@dataclass(frozen=True)
class ImageRegistry:
    """Where a stack pulls its image from: digests are only meaningful inside one repository."""

    account: str
    region: str
    repository: str

    def __str__(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{self.repository}"


def image_registry(stack: LoadedStack) -> ImageRegistry:
    """The registry a stack's `mlops:image` names (its own account unless `accountId` says otherwise)."""
    image = stack.settings.image
    return ImageRegistry(image.account_id or stack.settings.account_id, stack.settings.region, image.repository)


@dataclass(frozen=True)
class Change:
    """One pinned value of the target stack: what it is now and what the promotion writes."""

    label: str
    key: str
    before: str | None
    after: str
    model: str | None = None
    """The model whose version this is; None for the image digest."""

    @property
    def changed(self) -> bool:
        """False when the target already pins this value."""
        return self.before != self.after


@dataclass
class Promotion:
    """A promotion from one stack to another, filled in step by step."""

    source: LoadedStack
    target: LoadedStack
    models: list[ModelPick]
    changes: list[Change] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    smoke: list[SmokeResult] = field(default_factory=list)

    @property
    def changed(self) -> list[Change]:
        """The changes that alter the target file."""
        return [c for c in self.changes if c.changed]


def _check_stages(source: LoadedStack, target: LoadedStack, allow_skip: bool) -> list[str]:
    src, dst = source.settings.environment.value, target.settings.environment.value
    if source.name == target.name:
        return [f"--from and --to are both '{source.name}'; promotion moves artifacts to another stack"]
    if target.stage <= source.stage:
        return [
            f"stack '{target.name}' ({dst}) is not a later stage than '{source.name}' ({src}); promotion only moves "
            f"forward ({STAGE_ORDER}). To roll back, see docs/promotion.md, 'Rolling back'"
        ]
    if target.stage - source.stage > 1 and not allow_skip:
        skipped = list(Environment)[source.stage + 1 : target.stage]
        return [
            f"promoting {src} -> {dst} skips {', '.join(e.value for e in skipped)}: an artifact must be proven in "
            f"every stage ({STAGE_ORDER}); pass --allow-skip to do it anyway (it will show in the promotion record)"
        ]
    return []


def _pick_models(
    source: LoadedStack, target: LoadedStack, names: list[str], version: int | None, latest: bool
) -> tuple[list[ModelPick], list[str]]:
    problems: list[str] = []
    declared = [m.name for m in source.settings.models]
    for name in names:
        if name not in declared:
            problems.append(f"--model {name}: stack '{source.name}' declares no such model (it has: "
                            f"{', '.join(declared) or 'none'})")
    chosen = [m for m in source.settings.models if not names or m.name in names]
    if version is not None and len(chosen) != 1:
        problems.append("--version chooses one model's version: name the model with --model")
    if version is not None and latest:
        problems.append("--version and --latest-approved exclude each other")
    picks: list[ModelPick] = []
    for model in chosen:
        key = f"{source.settings.project}:models[{source.model_index(model.name)}].modelPackageArn"
        if target.model(model.name) is None:
            problems.append(
                f"{target.path}: declares no model '{model.name}' ({target.settings.project}:models); add its entry "
                "(name, training, endpoint settings) in a reviewed change first, then promote its version"
            )
        # --latest-approved is a fallback for unpinned models; --version names one and must not contradict a pin.
        if model.model_package_arn is not None and version is not None:
            problems.append(
                f"stack '{source.name}' pins {PackageRef.parse(model.model_package_arn)} for '{model.name}' ({key}); "
                "only what a stage serves is promoted from it, so --version does not apply"
            )
        if model.model_package_arn is None and version is None and not latest:
            group = registry_of(source.settings, model).group
            problems.append(
                f"stack '{source.name}' pins no version of '{model.name}' ({key}); choose one with --version N or "
                f"--latest-approved (the newest Approved version in {group})"
            )
        picks.append(ModelPick(model, version, latest))
    return picks, problems


def _check_image(source: LoadedStack, target: LoadedStack) -> list[str]:
    ns = source.settings.project
    if source.settings.image.digest is None:
        return [f"stack '{source.name}' pins no image ({ns}:image.digest in {source.path}); build and deploy one first"]
    src, dst = image_registry(source), image_registry(target)
    if src != dst:
        return [
            f"{target.path}: {ns}:image points at {dst}, but '{source.name}' pins a digest of {src}; the digest "
            f"would not exist there. Point the target at the same registry first ({ns}:image.accountId: "
            f"\"{src.account}\", repository: {src.repository}, same aws:region), in a reviewed change"
        ]
    return []


def prepare(
    project_dir: Path,
    source_name: str,
    target_name: str,
    models: list[str] | None = None,
    version: int | None = None,
    latest: bool = False,
    image_only: bool = False,
    allow_skip: bool = False,
) -> Promotion:
    """The offline half: both stacks valid, stages in order, artifacts chosen. Raises PromotionError."""
    try:
        source = load_stack(project_dir, source_name)
        target = load_stack(project_dir, target_name)
    except StackLoadError as exc:
        raise PromotionError([str(exc)]) from None
    problems = _check_stages(source, target, allow_skip)
    if problems:
        raise PromotionError(problems)
    picks: list[ModelPick] = []
    if image_only:
        if models or version is not None or latest:
            problems.append("--image-only promotes the image alone; drop --model/--version/--latest-approved")
    else:
        picks, problems = _pick_models(source, target, models or [], version, latest)
    problems += _check_image(source, target)
    if problems:
        raise PromotionError(problems)
    return Promotion(source, target, picks)


def trained_by_problem(project_dir: Path, source: LoadedStack, model: str, ref: PackageRef) -> str | None:
    """Why a version is not one of this model's, or None. The rule: its group is `<project>-<T>-<model>` for a
    stack T of this project that declares the model and is at or before the source's stage, and the ARN's
    account and region are T's. So a copy-pasted ARN of another model, project or account is refused."""
    project = source.settings.project
    prefix, suffix, group = f"{project}-", f"-{model}", ref.registry.group
    example = f"{project}-<stack>-{model}"
    if not (group.startswith(prefix) and group.endswith(suffix) and len(group) > len(prefix) + len(suffix)):
        return f"{ref.arn}: group '{group}' is not a group of model '{model}' (groups are named {example})"
    trainer = group[len(prefix) : -len(suffix)]
    if trainer not in existing_stacks(project_dir):
        return f"{ref.arn}: group '{group}' names stack '{trainer}', which has no stack file in this project"
    try:
        stack = load_stack(project_dir, trainer)
    except StackLoadError as exc:
        return f"{ref.arn}: cannot check the stack that trains it: {exc}"
    if stack.model(model) is None:
        return f"{ref.arn}: group '{group}' belongs to stack '{trainer}', which declares no model '{model}'"
    if stack.stage > source.stage:
        return (f"{ref.arn}: trained by '{trainer}' ({stack.settings.environment.value}), a later stage than "
                f"'{source.name}' ({source.settings.environment.value})")
    account = stack.settings.account_id
    if account != PLACEHOLDER_ACCOUNT_ID and ref.registry.account != account:
        return f"{ref.arn}: account {ref.registry.account} is not the account of stack '{trainer}' ({account})"
    if ref.registry.region != stack.settings.region:
        return f"{ref.arn}: region {ref.registry.region} is not the region of stack '{trainer}'"
    return None


def _resolve(session: AwsSession, promotion: Promotion, pick: ModelPick) -> PackageRef | str:
    """The version to promote: the source's pin, else the chosen number, else the newest Approved one (or
    why there is none)."""
    model = pick.model
    if model.model_package_arn is not None:
        return PackageRef.parse(model.model_package_arn)
    registry: Registry = registry_of(promotion.source.settings, model)
    if pick.version is not None:
        return PackageRef(registry, pick.version)
    if not pick.latest_approved:  # prepare() refuses this case; kept so a caller cannot skip the choice
        return f"'{model.name}': stack '{promotion.source.name}' pins no version and none was chosen"
    found = latest_approved(session, registry)
    if found is None:
        return f"'{model.name}': no Approved version in {registry} to promote"
    promotion.passed.append(f"'{model.name}': the newest Approved version in {registry.group} is {found.version}")
    return found


def _verify_model(project_dir: Path, session: AwsSession, promotion: Promotion, pick: ModelPick) -> list[str]:
    ref = _resolve(session, promotion, pick)
    if isinstance(ref, str):
        return [ref]
    rule = trained_by_problem(project_dir, promotion.source, pick.model.name, ref)
    if rule is not None:
        return [rule]
    hint = (f"mlops approve --stack {promotion.source.name} --model {pick.model.name} --version {ref.version} "
            "--reason '...'")
    problem = gate_problem(ref, describe_version(session, ref), hint)
    if problem is not None:
        return [f"'{pick.model.name}': {problem}"]
    promotion.passed.append(f"'{pick.model.name}': {ref} exists, is in its model's group and is Approved")
    target = promotion.target
    index = target.model_index(pick.model.name)
    promotion.changes.append(Change(
        f"model {pick.model.name}", f"{target.settings.project}:models[{index}].modelPackageArn",
        target.settings.models[index].model_package_arn, ref.arn, model=pick.model.name,
    ))  # fmt: skip
    return []


def image_problem(session: AwsSession, registry: ImageRegistry, digest: str) -> str | None:
    """Why a digest cannot be pinned (it is not in the registry), or None when the image is there."""
    client = session.client("ecr", registry.region)
    with aws_call("ecr:DescribeImages", f"{registry}@{digest}"):
        try:
            client.describe_images(
                registryId=registry.account, repositoryName=registry.repository, imageIds=[{"imageDigest": digest}]
            )
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) in ("ImageNotFoundException", "RepositoryNotFoundException"):
                return f"image {digest} is not in {registry} ({error_code(exc)}); only pushed images are pinned"
            raise
    return None


def _verify_image(session: AwsSession, promotion: Promotion) -> list[str]:
    source, digest = promotion.source, promotion.source.settings.image.digest
    assert digest is not None  # prepare() refuses a source without one
    registry = image_registry(source)
    problem = image_problem(session, registry, digest)
    if problem is not None:
        return [problem]
    promotion.passed.append(f"image {digest} is in {registry}")
    ns = promotion.target.settings.project
    promotion.changes.insert(0, Change("image", f"{ns}:image.digest", promotion.target.settings.image.digest, digest))
    return []


def _verify_endpoints(session: AwsSession, promotion: Promotion, payload: Payload) -> list[str]:
    source = promotion.source
    models = [p.model for p in promotion.models] or source.settings.models
    problems: list[str] = []
    for model in models:
        endpoint = source.settings.model_resource_name(model)
        result = smoke_endpoint(session, source.settings.region, model.name, endpoint, payload)
        promotion.smoke.append(result)
        if result.ok:
            promotion.passed.append(f"endpoint {endpoint} is InService and answered in {result.latency_ms} ms")
        else:
            problems.append(f"'{model.name}': source endpoint check failed: {result.problem}")
    return problems


def verify(project_dir: Path, session: AwsSession, promotion: Promotion, payload: Payload | None) -> None:
    """The AWS half: every gate on the source side (endpoint checks only with a payload). Fills
    `promotion.changes` and `promotion.passed`; raises PromotionError listing every failed gate."""
    steps: list[Callable[[], list[str]]] = [partial(_verify_image, session, promotion)]
    steps += [partial(_verify_model, project_dir, session, promotion, pick) for pick in promotion.models]
    if payload is not None:
        steps.append(partial(_verify_endpoints, session, promotion, payload))
    problems: list[str] = []
    for step in steps:
        try:
            problems += step()
        except AwsError as exc:
            problems.append(str(exc))
    if problems:
        raise PromotionError(problems)


def render(project_dir: Path, promotion: Promotion) -> tuple[str, str]:
    """(before, after) text of the target stack file with the changes applied and the result re-validated."""
    target = promotion.target
    document = StackDocument.load(target.path, target.settings.project)
    for change in promotion.changed:
        if change.model is None:
            document.set_image_digest(change.after)
        else:
            document.set_model_package_arn(change.model, change.after)
    after = document.render()
    revalidate(project_dir, target, after)
    return document.original, after


def revalidate(project_dir: Path, stack: LoadedStack, text: str) -> None:
    """Refuse an edited stack file that fails the validation `mlops plan` and `pulumi up` apply."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / stack.path.name
        copy.write_text(text, encoding="utf-8")
        try:
            load_stack(project_dir, stack.name, copy)
        except StackLoadError as exc:
            raise PromotionError([f"the edited {stack.path} would be invalid: {exc}"]) from None
