"""`mlops plan` / `mlops diff` as a user runs them: the JSON contract, formats, errors, and no AWS call."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from mlops.cli import app
from mlops.plan import Plan, run_plan

from .conftest import PROJECT_DIR, STACKS

MLOPS = [sys.executable, "-m", "mlops.cli"]

PLAN_SCHEMA = {
    "type": "object",
    "required": ["project", "stack", "resources", "outputs"],
    "properties": {
        "project": {"const": "mlops"},
        "stack": {"type": "string"},
        "outputs": {"type": "object"},
        "resources": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["urn", "type", "name", "parent", "custom", "inputs", "dependencies", "protect",
                             "retainOnDelete"],
                "properties": {
                    "urn": {"type": "string", "pattern": "^urn:pulumi:[^:]+::mlops::"},
                    "type": {"type": "string"},
                    "name": {"type": "string"},
                    "parent": {"type": ["string", "null"]},
                    "custom": {"type": "boolean"},
                    "inputs": {"type": "object"},
                    "dependencies": {"type": "array", "items": {"type": "string"}},
                    "protect": {"type": "boolean"},
                    "retainOnDelete": {"type": "boolean"},
                },
            },
        },
    },
}


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliResult:
    """Run `mlops` in-process (the SDK imports are paid once per session) against the project directory."""
    result = CliRunner().invoke(app, [*args, "--project-dir", str(PROJECT_DIR)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


def run_cli_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `mlops` as a user does, in its own process (for what only a real process shows: tracebacks, env)."""
    return subprocess.run([*MLOPS, *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_json_follows_the_contract(tmp_path: Path, stack: str) -> None:
    out = tmp_path / "plan.json"
    result = run_cli("plan", "--stack", stack, "--json", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    jsonschema.validate(document, PLAN_SCHEMA)
    assert document["stack"] == stack
    urns = [r["urn"] for r in document["resources"]]
    assert len(urns) == len(set(urns)), "URNs must be unique"
    known = set(urns)
    for resource in document["resources"]:
        assert resource["parent"] is None or resource["parent"] in known, resource["urn"]
        assert set(resource["dependencies"]) <= known, resource["urn"]
    roots = [r for r in document["resources"] if r["parent"] is None]
    assert [r["type"] for r in roots] == ["pulumi:pulumi:Stack"]


def test_plan_prints_the_tree_and_outputs() -> None:
    result = run_cli("plan", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert "mlops/dev" in result.stdout
    assert "mlops:data:DataLake" in result.stdout and "stack outputs" in result.stdout


def test_plan_table_lists_every_resource(plans: dict[str, Plan]) -> None:
    result = run_cli("plan", "--stack", "prod", "--format", "table")
    assert result.returncode == 0, result.stderr
    assert f"{len(plans['prod'].resources)} resources" in result.stdout


def test_mermaid_diagram_nests_components_and_draws_dependencies() -> None:
    result = run_cli("plan", "--stack", "dev", "--format", "mermaid")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    assert any(line.strip().startswith("subgraph") and "mlops:data:DataLake" in line for line in lines)
    assert any("-->" in line for line in lines)
    assert result.stdout.count("subgraph") == result.stdout.count("\n  end") + result.stdout.count("\n    end")


def test_unknown_stack_is_a_clear_error_without_traceback() -> None:
    result = run_cli_process("plan", "--stack", "qa")
    assert result.returncode == 2
    assert "stack 'qa': no stack file" in result.stderr and "dev, prod, staging" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_diff_between_environments_names_what_differs(tmp_path: Path) -> None:
    result = run_cli("diff", "dev", "prod", "--json", str(tmp_path / "diff.json"))
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "diff.json").read_text())
    provider = "urn:pulumi:<stack>::mlops::pulumi:providers:aws::aws"
    changes = {c["path"]: c for c in document["changed"][provider]}
    assert changes["defaultTags.tags.environment"] == {
        "path": "defaultTags.tags.environment", "dev": "dev", "prod": "prod"}
    raw_bucket = ("urn:pulumi:<stack>::mlops::mlops:data:DataLake$mlops:data:SecureBucket$aws:s3/bucket:Bucket"
                  "::mlops-<stack>-raw")
    bucket_changes = {c["path"]: (c["dev"], c["prod"]) for c in document["changed"][raw_bucket]}
    assert bucket_changes["forceDestroy"] == (True, False)
    assert bucket_changes["(protect)"] == (False, True)


def test_diff_of_a_stack_with_itself_is_empty() -> None:
    result = run_cli("diff", "staging", str(PROJECT_DIR / "stacks" / "Pulumi.staging.yaml"))
    assert result.returncode == 0, result.stderr
    assert "declare the same resources and inputs" in result.stdout


def test_plan_makes_no_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every socket connection and DNS lookup fails; the plans must not notice."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the offline plan tried to reach the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "invalid")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "invalid")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://192.0.2.1:9")  # TEST-NET-1: never routed
    for stack in STACKS:
        assert run_plan(PROJECT_DIR, stack).resources


def test_cli_runs_without_aws_credentials() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    result = run_cli_process("plan", "--stack", "prod", "--format", "table", env=env)
    assert result.returncode == 0, result.stderr
