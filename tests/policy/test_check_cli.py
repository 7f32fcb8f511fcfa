"""`mlops check` as a user runs it: rules listed, violations grouped with URN and fix, JSON report, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from mlops.cli import app
from policy import ALL_RULES

from .conftest import PROJECT_DIR

MLOPS = [sys.executable, "-m", "mlops.cli"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MLOPS, *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300, check=False)


def test_check_lists_every_rule_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "check.json"
    result = run_cli("check", "--stack", "staging", "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    for rule in ALL_RULES:
        assert rule.name in result.stdout
    assert "passed: stack staging checked as staging" in result.stdout
    assert "waivers" in result.stdout and "S3 server access logging delivers only to SSE-S3" in result.stdout
    report = json.loads(out.read_text())
    assert report["passed"] is True and report["environment"] == "staging"
    assert [r["name"] for r in report["rules"]] == [r.name for r in ALL_RULES]
    assert {w["rule"] for w in report["waivers"]} == {"s3-bucket-encrypted-kms", "s3-bucket-access-logging"}
    assert all(v["level"] != "mandatory" for v in report["violations"])


def test_a_mandatory_violation_exits_1_with_the_urn_and_the_fix(tmp_path: Path) -> None:
    # A stack file that turns prod's protection off: the settings model refuses that for prod, so use staging.
    stack_file = tmp_path / "Pulumi.staging.yaml"
    original = (PROJECT_DIR / "stacks" / "Pulumi.staging.yaml").read_text()
    stack_file.write_text(original.replace("mlops:protectData: true", "mlops:protectData: false"))
    result = CliRunner().invoke(app, ["check", "--stack", str(stack_file), "--project-dir", str(PROJECT_DIR)])
    assert result.exit_code == 1, result.output
    assert "MANDATORY stateful-resources-protected" in result.output
    assert "fix: Set mlops:protectData: true in the stack file" in result.output
    assert "urn:pulumi:staging::mlops::mlops:data:DataLake$aws:kms/key:Key::mlops-staging-key" in result.output
    assert "failed: stack staging" in result.output


def test_an_unknown_stack_is_a_clear_error_without_traceback() -> None:
    result = run_cli("check", "--stack", "nope")
    assert result.returncode == 2
    assert "error: stack 'nope': no stack file" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_report_path_in_a_missing_directory_is_refused_before_planning(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "check.json"
    result = CliRunner().invoke(app, ["check", "--stack", "dev", "--json", str(target)])
    assert result.exit_code == 2
    assert f"--json {target}: directory {target.parent} does not exist" in result.output
    assert not target.parent.exists()
