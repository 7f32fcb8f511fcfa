"""Round-trip edits of stack files: only the pinned lines change; anything else is refused, never written."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops._stackedit import StackDocument, StackEditError

from .conftest import PROJECT_DIR, changed_lines, digest, package_arn

STACK_FILES = sorted((PROJECT_DIR / "stacks").glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_an_unedited_stack_file_renders_byte_identical(path: Path) -> None:
    document = StackDocument.load(path, "mlops")
    assert document.render() == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_pinning_changes_exactly_the_pinned_lines(path: Path) -> None:
    document = StackDocument.load(path, "mlops")
    assert document.set_image_digest(digest(7)) is True
    assert document.set_model_package_arn("fraud-detector", package_arn(9)) is True
    changed = changed_lines(document.original, document.render())
    removed = [line for line in changed if line.startswith("-")]
    added = [line for line in changed if line.startswith("+")]
    assert added == [f"+    digest: {digest(7)}", f"+      modelPackageArn: {package_arn(9)}"]
    # dev pins no version yet: its ARN line is new; the other stacks had one, replaced in place.
    if "dev" in path.name:
        assert len(removed) == 1 and removed[0].lstrip("-").strip().startswith("digest:")
    else:
        assert [r.lstrip("-").strip().split(":")[0] for r in removed] == ["digest", "modelPackageArn"]


def test_setting_the_value_already_there_reports_no_change() -> None:
    document = StackDocument.load(PROJECT_DIR / "stacks" / "Pulumi.prod.yaml", "mlops")
    assert document.set_image_digest("sha256:61554cdfc101becbf1b2b4a7c9254bfe275081a086c5c6e435f3ef0d5da7eb6c") is False
    assert document.set_model_package_arn("fraud-detector", package_arn(3)) is False
    assert document.render() == document.original


def test_quoting_of_a_replaced_value_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        "config:\n"
        "  mlops:image:\n"
        "    digest: \"sha256:" + "0" * 64 + "\"  # pinned by promotion\n"
        "  mlops:models:\n"
        "    - name: m1\n"
        "      modelPackageArn: 'arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-m1/1'\n",
        encoding="utf-8",
    )
    document = StackDocument.load(path, "mlops")
    document.set_image_digest(digest(1))
    document.set_model_package_arn("m1", package_arn(2, "mlops-dev-m1"))
    assert changed_lines(document.original, document.render()) == [
        "-    digest: \"sha256:" + "0" * 64 + "\"  # pinned by promotion",
        f"+    digest: \"{digest(1)}\"  # pinned by promotion",
        "-      modelPackageArn: 'arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-m1/1'",
        f"+      modelPackageArn: '{package_arn(2, 'mlops-dev-m1')}'",
    ]


def test_a_missing_image_section_is_added_before_the_models(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(
        "config:\n  aws:region: us-east-1\n  mlops:models:\n  - name: m1\n", encoding="utf-8"
    )
    document = StackDocument.load(path, "mlops")
    assert document.set_image_digest(digest(2)) is True
    assert document.render() == (
        f"config:\n  aws:region: us-east-1\n  mlops:image:\n    digest: {digest(2)}\n  mlops:models:\n  - name: m1\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config:\r\n  mlops:image:\r\n    digest: x\r\n", "does not survive a YAML round trip"),
        ("config: {mlops:image: {digest: x},   aws:region: us-east-1}\n", "does not survive a YAML round trip"),
        ("config: [1, 2]\n", "must be a mapping with a 'config' mapping"),
        ("config:\n  mlops:image: [1]\n", "must be a mapping (repository, accountId, digest)"),
        ("config: {\n", "not valid YAML"),
    ],
    ids=["crlf", "odd-flow-spacing", "config-not-a-map", "image-not-a-map", "broken-yaml"],
)
def test_files_that_cannot_be_edited_safely_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_bytes(text.encode())
    with pytest.raises(StackEditError) as caught:
        StackDocument.load(path, "mlops").set_image_digest(digest(3))
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_an_unknown_model_is_refused() -> None:
    document = StackDocument.load(PROJECT_DIR / "stacks" / "Pulumi.prod.yaml", "mlops")
    with pytest.raises(StackEditError, match="declares no model named 'churn'"):
        document.set_model_package_arn("churn", package_arn(1, "mlops-dev-churn"))
