"""Malformed stack configuration: one message listing every problem with its key, no traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
from click.testing import Result
from typer.testing import CliRunner

from mlops.cli import app
from mlops.plan import PlanError, plan_config, program_path, read_stack_config, run_program
from mlops.settings import SettingsError, load_settings

from .conftest import PROJECT_DIR


def plan_with(stack: str, overrides: dict[str, object]) -> str:
    """Plan a stack with some config values replaced; return the error message it must give."""
    config = read_stack_config(PROJECT_DIR, stack)
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()}
    with pytest.raises(PlanError) as caught:
        plan_config(config, program_path(PROJECT_DIR), encoded)
    return str(caught.value)


LAKE = {"forceDestroy": False, "noncurrentVersionDays": 30}

CASES = [
    # (stack, overrides, message fragment)
    ("dev", {"mlops:environment": "qa"},
     "mlops:environment: Input should be 'dev', 'staging' or 'prod' (got 'qa')"),
    ("dev", {"mlops:owner": ""}, "mlops:owner: String should have at least 1 character"),
    ("dev", {"mlops:accountId": "12345"}, "mlops:accountId: String should match pattern"),
    ("dev", {"aws:region": "mars-1"}, "aws:region: String should match pattern"),
    ("dev", {"mlops:dataLake": {**LAKE, "noncurrentVersionDays": 0}},
     "mlops:dataLake.noncurrentVersionDays: Input should be greater than or equal to 1 (got 0)"),
    ("dev", {"mlops:dataLake": {**LAKE, "nonCurrentDays": 3}},
     "mlops:dataLake.nonCurrentDays: unknown key (a typo?)"),
    ("dev", {"mlops:dataLake": {**LAKE, "rawGlacierDays": 30}},
     "mlops:dataLake.rawGlacierDays: Input should be greater than or equal to 90 (got 30)"),
    ("dev", {"mlops:protectData": "maybe"}, "mlops:protectData: Input should be a valid boolean"),
    ("dev", {"mlops:image": {"repository": "Bad Repo!"}}, "mlops:image.repository: String should match pattern"),
    ("dev", {"mlops:image": {"repository": "mlops-model", "digest": "latest"}},
     "mlops:image.digest: String should match pattern '^sha256:[0-9a-f]{64}$' (got 'latest')"),
    ("dev", {"mlops:models": [{"name": "Fraud_Detector"}]}, "mlops:models[0].name: String should match pattern"),
    ("dev", {"mlops:models": [{"name": "fraud"}, {"name": "fraud"}]},
     "mlops:models[1].name: 'fraud' is used twice; names must be unique"),
    ("dev", {"mlops:unknownSetting": "x"}, "mlops:unknownSetting: unknown key (a typo?)"),
    ("dev", {"mlops:models": [{"name": "fraud", "modelPackageArn": "arn:aws:sagemaker:us-east-1:1:model/x"}]},
     "mlops:models[0].modelPackageArn: String should match pattern"),
    ("prod", {"mlops:protectData": "false"}, "mlops:protectData: prod must protect its data; set it to true"),
    ("prod", {"mlops:dataLake": {"forceDestroy": True}},
     "mlops:dataLake.forceDestroy: prod must keep data on delete; set it to false"),
    ("staging", {"mlops:models": [{"name": "fraud"}]},
     "mlops:models[0].modelPackageArn: staging serves only registered model versions"),
]


@pytest.mark.parametrize(("stack", "overrides", "fragment"), CASES, ids=[c[2].split(":")[1] for c in CASES])
def test_bad_value_names_stack_and_key(stack: str, overrides: dict[str, object], fragment: str) -> None:
    message = plan_with(stack, overrides)
    assert message.startswith(f"stack '{stack}' has ")
    assert fragment in message


def test_every_problem_is_listed_at_once() -> None:
    message = plan_with("dev", {"mlops:owner": "", "mlops:accountId": "x", "mlops:dataLake": {"foo": 1}})
    assert "has 3 configuration problem(s)" in message
    for key in ("mlops:owner", "mlops:accountId", "mlops:dataLake.foo"):
        assert key in message


def test_names_must_fit_aws_limits() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings("mlops", "a-very-long-stack-name-for-buckets-and-things-x",
                      {"aws:region": "us-east-1", "mlops:environment": "dev", "mlops:owner": "o",
                       "mlops:costCenter": "c"})
    assert "bucket names would reach 73 characters (S3 allows 63); shorten the stack or project name by 10" in str(
        caught.value
    )


def test_missing_required_keys_are_named() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings("mlops", "dev", {"aws:region": "us-east-1"})
    problems = caught.value.problems
    assert "mlops:environment: required but not set" in problems
    assert "mlops:owner: required but not set" in problems
    assert "mlops:costCenter: required but not set" in problems


@pytest.fixture()
def project_copy(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "stacks", tmp_path / "stacks")
    return tmp_path


def run_plan_cli(project: Path, stack: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops.cli", "plan", "--stack", stack, "--json", str(project / "out.json"),
         "--project-dir", str(project)],
        capture_output=True, text=True, timeout=300, check=False,
    )


def test_cli_bad_stack_value_exits_non_zero_naming_the_key(project_copy: Path) -> None:
    stack_file = project_copy / "stacks" / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text().replace("noncurrentVersionDays: 90", "noncurrentVersionDays: -5"))
    result = run_plan_cli(project_copy, "prod")
    assert result.returncode == 2
    assert "stack 'prod'" in result.stderr
    assert "mlops:dataLake.noncurrentVersionDays: Input should be greater than or equal to 1 (got -5)" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (project_copy / "out.json").exists(), "no plan file may be written for a bad config"


def run_plan_in_process(project: Path, stack: str) -> Result:
    return CliRunner().invoke(app, ["plan", "--stack", stack, "--json", str(project / "out.json"),
                                    "--project-dir", str(project)])


def test_cli_broken_yaml_names_the_file(project_copy: Path) -> None:
    stack_file = project_copy / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  mlops:owner: [unclosed\n")
    result = run_plan_in_process(project_copy, "dev")
    assert result.exit_code == 2
    assert "Pulumi.dev.yaml: not valid YAML" in result.stderr


def test_cli_keeps_an_existing_plan_file_on_failure(project_copy: Path) -> None:
    (project_copy / "out.json").write_text('{"previous": true}')
    stack_file = project_copy / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("mlops:environment: dev", "mlops:environment: qa"))
    result = run_plan_in_process(project_copy, "dev")
    assert result.exit_code == 2
    assert "mlops:environment: Input should be 'dev', 'staging' or 'prod' (got 'qa')" in result.stderr
    assert json.loads((project_copy / "out.json").read_text()) == {"previous": True}


def test_a_component_refusing_an_input_is_reported_as_a_plan_error() -> None:
    def program() -> None:
        raise pulumi.InputPropertyError("retention", "must be at least 1 day (got 0)")

    with pytest.raises(PlanError) as caught:
        run_program(program, "mlops", "dev", {"aws:region": "us-east-1"})
    assert str(caught.value) == "stack 'dev': retention: must be at least 1 day (got 0)"


def test_a_component_refusing_several_inputs_lists_them_all() -> None:
    def program() -> None:
        raise pulumi.InputPropertiesError(
            "2 invalid inputs",
            [{"property_path": "minInstances", "reason": "must be >= 1"},
             {"property_path": "maxInstances", "reason": "must be >= minInstances"}],
        )

    with pytest.raises(PlanError) as caught:
        run_program(program, "mlops", "dev", {"aws:region": "us-east-1"})
    assert str(caught.value) == (
        "stack 'dev': 2 invalid inputs\n  - minInstances: must be >= 1\n  - maxInstances: must be >= minInstances"
    )
