"""`mlops approve` and `mlops versions` against moto's server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Aws, package_arn, run, snapshot


def test_approve_records_the_decision_and_the_reason(aws: Aws, project: Path) -> None:
    arns = aws.register("Approved", "PendingManualApproval")

    result = run(project, "approve", "--stack", "dev", "--model", "fraud-detector", "--version", "2",
                 "--reason", "ROC-AUC 0.93 on the March holdout; reviewed by risk team")

    assert result.exit_code == 0, result.stderr
    assert aws.approval(arns[1]) == ("Approved", "ROC-AUC 0.93 on the March holdout; reviewed by risk team")
    assert "version 2 of mlops-dev-fraud-detector: PendingManualApproval -> Approved" in result.stdout
    assert aws.approval(arns[0])[0] == "Approved"  # nothing else touched


def test_approving_twice_changes_nothing_the_second_time(aws: Aws, project: Path) -> None:
    arns = aws.register("PendingManualApproval")
    first = run(project, "approve", "-s", "dev", "-m", "fraud-detector", "--version", "1", "--reason", "ok")
    assert first.exit_code == 0, first.stderr

    again = run(project, "approve", "-s", "dev", "-m", "fraud-detector", "--version", "1", "--reason", "other")

    assert again.exit_code == 0
    assert "is already Approved (reason: ok); nothing changed" in again.stdout
    assert aws.approval(arns[0]) == ("Approved", "ok")


def test_rejecting_a_pinned_version_warns_who_still_serves_it(aws: Aws, project: Path) -> None:
    arns = aws.register("Approved", "Approved", "Approved")

    result = run(project, "approve", "-s", "staging", "-m", "fraud-detector", "--version", "3",
                 "--status", "Rejected", "--reason", "bias found in review")

    assert result.exit_code == 0, result.stderr
    assert aws.approval(arns[2]) == ("Rejected", "bias found in review")
    assert "staging, prod still pin(s) this version" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--version", "9", "--reason", "x"], "version 9 of mlops-dev-fraud-detector does not exist"),
        (["--version", "1", "--reason", "  "], "--reason: give the reason for the decision (1 to 1024 characters)"),
        (["--version", "1", "--reason", "x", "--model", "churn"], "--model churn: stack 'dev' declares no such model"),
    ],
    ids=["unknown-version", "blank-reason", "unknown-model"],
)
def test_approve_refuses_what_it_cannot_do(aws: Aws, project: Path, args: list[str], expected: str) -> None:
    arns = aws.register("PendingManualApproval")
    base = ["approve", "--stack", "dev", "--model", "fraud-detector"]
    if "--model" in args:
        base = base[:3]
    before = snapshot(project)

    result = run(project, *base, *args)

    assert result.exit_code != 0
    assert expected in " ".join(result.stderr.split())
    assert aws.approval(arns[0])[0] == "PendingManualApproval"
    assert snapshot(project) == before


def test_versions_lists_status_metrics_and_who_pins_each(aws: Aws, project: Path, tmp_path: Path) -> None:
    aws.register(
        "Approved", "Rejected", "Approved", "PendingManualApproval",
        metrics=[{"roc_auc": 0.91, "pr_auc": 0.52}, {"roc_auc": 0.71, "pr_auc": 0.2},
                 {"roc_auc": 0.93, "pr_auc": 0.61}, {"roc_auc": 0.94, "pr_auc": 0.63}],
    )
    out = tmp_path / "versions.json"

    result = run(project, "versions", "--stack", "prod", "--model", "fraud-detector", "--json", str(out))

    assert result.exit_code == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    header = [c.strip() for c in next(ln for ln in lines if ln.startswith("┃")).strip("┃").split("┃")]
    body = [[c.strip() for c in ln.strip("│").split("│")] for ln in lines if ln.startswith("│")]
    assert header[:7] == ["version", "approval", "status", "created (UTC)", "roc_auc", "pr_auc", "pinned by"]
    assert [(r[0], r[1], r[4], r[6]) for r in body] == [
        ("4", "PendingManualApproval", "0.9400", "-"),
        ("3", "Approved", "0.9300", "staging, prod"),
        ("2", "Rejected", "0.7100", "-"),
        ("1", "Approved", "0.9100", "-"),
    ]
    document = json.loads(out.read_text())
    assert document["group"] == "mlops-dev-fraud-detector"
    assert document["versions"][1] == {
        "version": 3, "arn": package_arn(3), "approval": "Approved", "status": "Completed",
        "created": document["versions"][1]["created"], "metrics": {"roc_auc": 0.93, "pr_auc": 0.61},
        "pinnedBy": ["staging", "prod"], "reason": "",
    }


def test_versions_of_an_empty_group_says_so(aws: Aws, project: Path) -> None:
    result = run(project, "versions", "--stack", "dev", "--model", "fraud-detector")
    assert result.exit_code == 0, result.stderr
    assert "no versions registered in mlops-dev-fraud-detector (account 111111111111, us-east-1)" in result.stdout
