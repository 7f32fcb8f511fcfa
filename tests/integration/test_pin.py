"""`mlops pin`: CI records a new build's digest in dev's stack file, and only there."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import PINNED_DIGEST, REGISTRY_ACCOUNT, Aws, changed_lines, digest, run, snapshot


def test_a_pushed_digest_is_pinned_in_dev(aws: Aws, project: Path) -> None:
    aws.push_image(digest(5))
    dev = project / "stacks" / "Pulumi.dev.yaml"
    before = dev.read_bytes()

    result = run(project, "pin", "--stack", "dev", "--image-digest", digest(5))

    assert result.exit_code == 0, result.stderr
    assert changed_lines(before, dev.read_bytes()) == [f"-    digest: {PINNED_DIGEST}", f"+    digest: {digest(5)}"]
    again = run(project, "pin", "--stack", "dev", "--image-digest", digest(5))
    assert again.exit_code == 0 and "nothing to change" in again.stdout


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["--stack", "staging", "--image-digest", digest(5)], 2,
         "stack 'staging' is staging: its pins change only through `mlops promote`"),
        (["--stack", "dev", "--image-digest", "sha256:abc"], 2, "'sha256:abc' is not a digest"),
        (["--stack", "dev", "--image-digest", digest(6)], 1,
         f"image {digest(6)} is not in {REGISTRY_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mlops-model"),
    ],
    ids=["not-first-stage", "malformed", "not-pushed"],
)
def test_pin_refuses_and_writes_nothing(aws: Aws, project: Path, args: list[str], code: int, expected: str) -> None:
    aws.push_image(digest(5))
    before = snapshot(project)

    result = run(project, "pin", *args)

    assert result.exit_code == code
    assert expected in " ".join(result.stderr.split())
    assert snapshot(project) == before
