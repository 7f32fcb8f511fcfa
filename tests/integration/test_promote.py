"""`mlops promote` against moto's server: what is written when every gate passes, and that a refusal (for any
reason) exits non-zero with a message naming the problem and leaves every file as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops._stacks import load_stack

from .conftest import (
    PINNED_DIGEST,
    REGISTRY_ACCOUNT,
    Aws,
    changed_lines,
    digest,
    package_arn,
    run,
    snapshot,
)

STACKS = Path("stacks")


def edit(project: Path, stack: str, old: str, new: str) -> None:
    """Replace one exact piece of a stack file (test arrangement independent of the code under test)."""
    path = project / STACKS / f"Pulumi.{stack}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def pin_staging(project: Path, version: int, image: str) -> None:
    """Make staging serve version N and an image: the state the main workflow leaves after a build."""
    edit(project, "staging", package_arn(3), package_arn(version))
    edit(project, "staging", f"digest: {PINNED_DIGEST}", f"digest: {image}")


def refused(project: Path, *args: str) -> str:
    """Run a promotion that must be refused; check it wrote nothing; return its error output."""
    before = snapshot(project)
    result = run(project, "promote", *args)
    assert result.exit_code != 0, result.output
    assert snapshot(project) == before, "a refused promotion changed a file"
    assert "Traceback" not in result.output + result.stderr
    return " ".join(result.stderr.split())  # rich wraps long lines; compare on single spaces


def test_an_approved_version_reaches_prod_and_only_the_pinned_lines_change(aws: Aws, project: Path) -> None:
    aws.register("Approved", "Approved", "Approved", "Approved")
    aws.push_image(digest(4))
    pin_staging(project, version=4, image=digest(4))
    prod = project / STACKS / "Pulumi.prod.yaml"
    before, others = prod.read_bytes(), {k: v for k, v in snapshot(project).items() if "prod" not in k}

    result = run(project, "promote", "--from", "staging", "--to", "prod")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert changed_lines(before, prod.read_bytes()) == [
        f"-    digest: {PINNED_DIGEST}",
        f"+    digest: {digest(4)}",
        f"-      modelPackageArn: {package_arn(3)}",
        f"+      modelPackageArn: {package_arn(4)}",
    ]
    assert {k: v for k, v in snapshot(project).items() if "prod" not in k} == others
    assert f"+      modelPackageArn: {package_arn(4)}" in result.stdout  # the diff is printed
    assert "version 4 of mlops-dev-fraud-detector exists, is in its model's group and is Approved" in result.stdout
    promoted = load_stack(project, "prod").settings  # still a valid prod stack
    assert promoted.image.digest == digest(4)
    assert promoted.models[0].model_package_arn == package_arn(4)


def test_promoting_what_is_already_there_changes_nothing_and_says_so(aws: Aws, project: Path) -> None:
    aws.register("Approved", "Approved", "Approved")
    aws.push_image(PINNED_DIGEST)
    prod = project / STACKS / "Pulumi.prod.yaml"
    stat = prod.stat()

    result = run(project, "promote", "--from", "staging", "--to", "prod")

    assert result.exit_code == 0, result.stderr
    assert "already pins these artifacts; nothing to change" in " ".join(result.stdout.split())
    assert prod.stat().st_mtime_ns == stat.st_mtime_ns and prod.stat().st_ino == stat.st_ino


def test_a_dry_run_shows_the_change_and_writes_nothing(aws: Aws, project: Path) -> None:
    aws.register("Approved", "Approved", "Approved", "Approved")
    aws.push_image(digest(4))
    pin_staging(project, version=4, image=digest(4))
    before = snapshot(project)

    result = run(project, "promote", "--from", "staging", "--to", "prod", "--dry-run")

    assert result.exit_code == 0, result.stderr
    assert f"+    digest: {digest(4)}" in result.stdout and "dry run: nothing written" in result.stdout
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("Approved", "Approved", "Rejected"), "version 3 of mlops-dev-fraud-detector was Rejected"),
        (("Approved", "Approved", "PendingManualApproval"),
         "is PendingManualApproval: no reviewer has approved it; approve it with `mlops approve --stack staging "
         "--model fraud-detector --version 3"),
        (("Approved", "Approved"), "version 3 of mlops-dev-fraud-detector does not exist in the model registry"),
    ],
    ids=["rejected", "pending", "unknown"],
)
def test_an_unapproved_rejected_or_unknown_version_is_refused(
    aws: Aws, project: Path, statuses: tuple[str, ...], expected: str
) -> None:
    aws.register(*statuses)
    aws.push_image(PINNED_DIGEST)
    edit(project, "prod", package_arn(3), package_arn(1))  # so the promotion would change prod

    message = refused(project, "--from", "staging", "--to", "prod")

    assert "promotion staging -> prod refused (1 problem(s)); nothing was written" in message
    assert expected in message


def test_the_rejection_reason_is_part_of_the_refusal(aws: Aws, project: Path) -> None:
    arns = aws.register("Approved", "Approved", "Approved")
    aws.client("sagemaker").update_model_package(
        ModelPackageArn=arns[2], ModelApprovalStatus="Rejected", ApprovalDescription="recall dropped to 0.41"
    )
    aws.push_image(PINNED_DIGEST)
    assert "was Rejected (reason: recall dropped to 0.41)" in refused(project, "--from", "staging", "--to", "prod")


def test_every_failed_gate_is_listed_at_once(aws: Aws, project: Path) -> None:
    aws.register("Approved", "Approved", "Rejected")  # and no image pushed

    message = refused(project, "--from", "staging", "--to", "prod")

    assert "(2 problem(s))" in message
    assert f"image {PINNED_DIGEST} is not in {REGISTRY_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mlops-model" in message
    assert "was Rejected" in message


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (package_arn(3, "billing-dev-fraud-detector"),
         "group 'billing-dev-fraud-detector' is not a group of model 'fraud-detector' (groups are named "
         "mlops-<stack>-fraud-detector)"),
        (package_arn(3, "mlops-qa-fraud-detector"), "names stack 'qa', which has no stack file in this project"),
        ("arn:aws:sagemaker:us-east-1:333333333333:model-package/mlops-prod-fraud-detector/3",
         "trained by 'prod' (prod), a later stage than 'staging' (staging)"),
        ("arn:aws:sagemaker:us-east-1:999999999999:model-package/mlops-dev-fraud-detector/3",
         "account 999999999999 is not the account of stack 'dev' (111111111111)"),
    ],
    ids=["other-project", "unknown-stack", "later-stage", "other-account"],
)
def test_a_version_outside_its_models_group_is_refused(aws: Aws, project: Path, arn: str, expected: str) -> None:
    aws.register("Approved", "Approved", "Approved")
    aws.push_image(PINNED_DIGEST)
    edit(project, "staging", package_arn(3), arn)

    assert expected in refused(project, "--from", "staging", "--to", "prod")


def test_skipping_a_stage_needs_allow_skip(aws: Aws, project: Path) -> None:
    aws.register("Approved", "Approved")
    aws.push_image(PINNED_DIGEST)

    message = refused(project, "--from", "dev", "--to", "prod", "--version", "2")
    assert "promoting dev -> prod skips staging" in message and "--allow-skip" in message

    report = project / "promotion.md"
    result = run(project, "promote", "--from", "dev", "--to", "prod", "--version", "2", "--allow-skip",
                 "--report", str(report))
    assert result.exit_code == 0, result.stderr
    assert "--allow-skip: prod gets artifacts that skipped staging" in result.stdout
    assert "**Skipped stage(s)** (`--allow-skip`): staging." in report.read_text()
    assert load_stack(project, "prod").settings.models[0].model_package_arn == package_arn(2)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("prod", "staging", "stack 'staging' (staging) is not a later stage than 'prod' (prod)"),
        ("staging", "staging", "--from and --to are both 'staging'"),
        ("staging", "qa", "stack 'qa': no stack file"),
    ],
)
def test_promotion_only_moves_forward_between_existing_stacks(
    aws: Aws, project: Path, source: str, target: str, expected: str
) -> None:
    assert expected in refused(project, "--from", source, "--to", target)


def test_dev_pins_no_version_so_one_must_be_chosen(aws: Aws, project: Path) -> None:
    aws.register("Approved", "Approved", "Approved", "Rejected", "PendingManualApproval")
    aws.push_image(PINNED_DIGEST)

    message = refused(project, "--from", "dev", "--to", "staging")
    assert ("stack 'dev' pins no version of 'fraud-detector' (mlops:models[0].modelPackageArn); choose one with "
            "--version N or --latest-approved (the newest Approved version in mlops-dev-fraud-detector)") in message

    edit(project, "staging", package_arn(3), package_arn(1))
    result = run(project, "promote", "--from", "dev", "--to", "staging", "--latest-approved")
    assert result.exit_code == 0, result.stderr
    assert "the newest Approved version in mlops-dev-fraud-detector is 3" in result.stdout
    assert load_stack(project, "staging").settings.models[0].model_package_arn == package_arn(3)


def test_a_version_chosen_by_number_still_passes_the_gates(aws: Aws, project: Path) -> None:
    aws.register("Approved", "Approved", "Approved", "Rejected")
    aws.push_image(PINNED_DIGEST)
    assert "version 4 of mlops-dev-fraud-detector was Rejected" in refused(
        project, "--from", "dev", "--to", "staging", "--version", "4"
    )
    result = run(project, "promote", "--from", "dev", "--to", "staging", "--version", "2")
    assert result.exit_code == 0, result.stderr
    assert "goes back from version 3 to 2 in staging" in " ".join(result.stdout.split())


def test_a_pinned_source_cannot_be_overridden_with_a_version(aws: Aws, project: Path) -> None:
    message = refused(project, "--from", "staging", "--to", "prod", "--version", "2")
    assert "only what a stage serves is promoted from it" in message


def test_image_only_promotes_the_digest_alone(aws: Aws, project: Path) -> None:
    aws.push_image(digest(9))
    edit(project, "dev", f"digest: {PINNED_DIGEST}", f"digest: {digest(9)}")
    staging = project / STACKS / "Pulumi.staging.yaml"
    before = staging.read_bytes()

    result = run(project, "promote", "--from", "dev", "--to", "staging", "--image-only")

    assert result.exit_code == 0, result.stderr
    assert changed_lines(before, staging.read_bytes()) == [f"-    digest: {PINNED_DIGEST}", f"+    digest: {digest(9)}"]


def test_a_target_pulling_from_another_registry_is_refused(aws: Aws, project: Path) -> None:
    edit(project, "prod", 'accountId: "111111111111"', 'accountId: "333333333333"')
    message = refused(project, "--from", "staging", "--to", "prod")
    assert "mlops:image points at 333333333333.dkr.ecr.us-east-1.amazonaws.com/mlops-model" in message
    assert "the digest would not exist there" in message


def test_a_target_without_the_model_is_refused(aws: Aws, project: Path) -> None:
    edit(project, "prod", "- name: fraud-detector", "- name: churn")
    edit(project, "prod", package_arn(3), package_arn(3, "mlops-dev-churn"))
    assert "declares no model 'fraud-detector'" in refused(project, "--from", "staging", "--to", "prod")


def test_a_broken_stack_file_gives_the_same_message_as_plan(aws: Aws, project: Path) -> None:
    edit(project, "prod", "mlops:protectData: true", "mlops:protectData: false")
    message = refused(project, "--from", "staging", "--to", "prod")
    assert "stack 'prod' has 1 configuration problem(s): - mlops:protectData: prod must protect its data" in message


class TestCheckEndpoint:
    """--check-endpoint: the source endpoint must be InService and answer the sample like the model server."""

    def arrange(self, aws: Aws, project: Path) -> None:
        aws.register("Approved", "Approved", "Approved", "Approved")
        aws.push_image(digest(4))
        pin_staging(project, version=4, image=digest(4))

    def test_an_answering_endpoint_passes(self, aws: Aws, project: Path, payload: Path) -> None:
        self.arrange(aws, project)
        aws.create_endpoint("mlops-staging-fraud-detector")
        aws.queue_answers({"predictions": [{"fraud_probability": 0.01}, {"fraud_probability": 0.9}]})

        result = run(project, "promote", "--from", "staging", "--to", "prod", "--check-endpoint",
                     "--payload", str(payload))

        assert result.exit_code == 0, result.stderr
        assert "endpoint mlops-staging-fraud-detector is InService and answered in" in result.stdout

    def test_a_missing_endpoint_is_refused(self, aws: Aws, project: Path, payload: Path) -> None:
        self.arrange(aws, project)
        message = refused(project, "--from", "staging", "--to", "prod", "--check-endpoint", "--payload", str(payload))
        assert "source endpoint check failed: endpoint mlops-staging-fraud-detector does not exist" in message

    def test_a_wrong_answer_is_refused(self, aws: Aws, project: Path, payload: Path) -> None:
        self.arrange(aws, project)
        aws.create_endpoint("mlops-staging-fraud-detector")
        aws.queue_answers({"predictions": [{"fraud_probability": 0.01}]})
        message = refused(project, "--from", "staging", "--to", "prod", "--check-endpoint", "--payload", str(payload))
        assert "the answer has 1 prediction(s) for 2 row(s) sent" in message


def test_an_interrupted_write_leaves_the_file_as_it_was(
    aws: Aws, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.register("Approved", "Approved", "Approved", "Approved")
    aws.push_image(digest(4))
    pin_staging(project, version=4, image=digest(4))

    def interrupted(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", interrupted)
    message = refused(project, "--from", "staging", "--to", "prod")

    assert "could not write" in message and "No space left on device" in message and "the file is unchanged" in message
    assert not [p.name for p in (project / STACKS).iterdir() if p.name.endswith(".tmp")]


def test_the_report_records_gates_and_change(aws: Aws, project: Path, tmp_path: Path) -> None:
    aws.register("Approved", "Approved", "Approved", "Approved")
    aws.push_image(digest(4))
    pin_staging(project, version=4, image=digest(4))
    report = tmp_path / "promotion.md"

    result = run(project, "promote", "--from", "staging", "--to", "prod", "--report", str(report))

    assert result.exit_code == 0, result.stderr
    text = report.read_text()
    assert text.startswith("## Promotion staging -> prod")
    row = f"| model fraud-detector | `mlops:models[0].modelPackageArn` | `{package_arn(3)}` | `{package_arn(4)}` |"
    assert row in text
    assert f"- image {digest(4)} is in {REGISTRY_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mlops-model" in text
    assert f"+      modelPackageArn: {package_arn(4)}" in text


def test_the_installed_console_script_promotes(aws: Aws, project: Path) -> None:
    aws.register("Approved", "Approved", "Approved", "Approved")
    aws.push_image(digest(4))
    pin_staging(project, version=4, image=digest(4))
    mlops = Path(sys.executable).parent / "mlops"

    completed = subprocess.run(
        [str(mlops), "promote", "--from", "staging", "--to", "prod", "--project-dir", str(project)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "250"}, check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert load_stack(project, "prod").settings.models[0].model_package_arn == package_arn(4)


def test_latest_approved_with_no_approved_version_is_refused(aws: Aws, project: Path) -> None:
    aws.register("Rejected", "PendingManualApproval")
    aws.push_image(PINNED_DIGEST)
    message = refused(project, "--from", "dev", "--to", "staging", "--latest-approved")
    assert "'fraud-detector': no Approved version in mlops-dev-fraud-detector (account 111111111111, us-east-1)" in (
        message
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--version", "2", "--latest-approved"], "--version and --latest-approved exclude each other"),
        (["--image-only", "--model", "fraud-detector"], "--image-only promotes the image alone"),
        (["--model", "churn"], "--model churn: stack 'dev' declares no such model (it has: fraud-detector)"),
    ],
    ids=["version-and-latest", "image-only-and-model", "unknown-model"],
)
def test_contradictory_requests_are_refused_before_any_aws_call(
    project: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], expected: str
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: any AWS call would fail
    assert expected in refused(project, "--from", "dev", "--to", "staging", *args)
