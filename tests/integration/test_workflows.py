"""The GitHub Actions workflows: valid against GitHub's workflow schema (check-jsonschema's vendored copy,
offline), and holding the rules of promotion: OIDC only, no secret in a shell, one deploy per stack at a time,
prod deployed only through the promotion workflow and its `prod` environment, rollback after a failed deploy.

What this cannot prove: that GitHub runs them as intended (expressions are evaluated there) or that the AWS
roles exist. docs/promotion.md lists what to set up.
"""

from __future__ import annotations

import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from ruamel.yaml import YAML

from mlops.cli import app

from .conftest import PROJECT_DIR

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
STAGES = ("dev", "staging", "prod")


def load(name: str) -> dict[str, Any]:
    data = YAML(typ="safe").load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def all_workflows() -> dict[str, dict[str, Any]]:
    return {p.name: load(p.name) for p in sorted(WORKFLOWS.glob("*.yml"))}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == action


def jobs_with_pulumi(command: str) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(workflow, job id, job, step) for every pulumi/actions step running `command`."""
    found = []
    for name, workflow in all_workflows().items():
        for job_id, job in workflow["jobs"].items():
            for step in steps(job):
                if uses(step, "pulumi/actions") and step.get("with", {}).get("command") == command:
                    found.append((name, job_id, job, step))
    return found


def stack_of(step: dict[str, Any]) -> str:
    """The stack a pulumi/actions step works on (every step names it `<org prefix><stack>`)."""
    name = str(step["with"]["stack-name"])
    assert name.startswith("${{ env.PULUMI_STACK_PREFIX }}"), name
    return name.removeprefix("${{ env.PULUMI_STACK_PREFIX }}")


def test_the_three_workflows_exist() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == ["main.yml", "promotion.yml", "pull-request.yml"]


def test_workflows_pass_githubs_workflow_schema_offline() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        (WORKFLOWS / "promotion.yml").read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1)
    )
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode != 0 and "runs_on" in result.stdout + result.stderr


def test_no_secret_or_untrusted_input_is_expanded_in_a_shell() -> None:
    # Secrets reach actions only through `with:`/`env:` (GitHub masks them there); a `${{ }}` of user input in a
    # `run:` block is script injection, so inputs are passed as environment variables instead.
    for name, workflow in all_workflows().items():
        for job_id, job in workflow["jobs"].items():
            for step in steps(job):
                script = str(step.get("run", ""))
                assert "secrets." not in script, f"{name}:{job_id} uses a secret in a shell"
                for risky in ("${{ inputs.", "${{ github.event.", "${{ github.head_ref"):
                    assert risky not in script, f"{name}:{job_id}: {risky} inside run:; pass it through env:"
                assert not re.search(r"\bset -x\b|\benv\b\s*$|printenv", script), f"{name}:{job_id} may dump env"


def test_aws_credentials_come_only_from_oidc_roles() -> None:
    for name, workflow in all_workflows().items():
        for job_id, job in workflow["jobs"].items():
            for step in steps(job):
                if not uses(step, "aws-actions/configure-aws-credentials"):
                    continue
                inputs = step["with"]
                assert re.search(r"\bvars\b", str(inputs.get("role-to-assume", ""))), (name, job_id)
                assert not {"aws-access-key-id", "aws-secret-access-key"} & set(inputs), (name, job_id)
                assert job.get("permissions", {}).get("id-token") == "write", f"{name}:{job_id} needs id-token: write"
        assert workflow.get("permissions") == {"contents": "read"}, f"{name}: least privilege by default"


def test_every_deploy_holds_its_stacks_lock_and_environment() -> None:
    deploys = jobs_with_pulumi("up")
    assert {stack_of(step) for *_, step in deploys} == set(STAGES)
    for name, job_id, job, step in deploys:
        stack = stack_of(step)
        assert job.get("concurrency") == {"group": f"deploy-{stack}", "cancel-in-progress": False}, (name, job_id)
        assert job.get("environment") == stack, f"{name}:{job_id} deploys {stack} outside its environment"


def test_prod_is_deployed_only_by_the_promotion_workflow() -> None:
    prod = [(name, job_id) for name, job_id, _, step in jobs_with_pulumi("up") if stack_of(step) == "prod"]
    assert {name for name, _ in prod} == {"promotion.yml"}
    promotion = load("promotion.yml")
    assert promotion["on"]["push"] == {"branches": ["main"], "paths": ["stacks/Pulumi.prod.yaml"]}
    assert promotion["jobs"]["deploy-prod"]["environment"] == "prod"
    assert promotion["jobs"]["deploy-prod"]["if"] == "github.event_name == 'push'"
    assert "stacks/Pulumi.prod.yaml" in load("main.yml")["on"]["push"]["paths-ignore"]


@pytest.mark.parametrize(("workflow", "job_id", "stack"), [
    ("main.yml", "deploy-dev", "dev"), ("main.yml", "deploy-staging", "staging"),
    ("promotion.yml", "deploy-prod", "prod"),
])  # fmt: skip
def test_a_failed_deploy_or_smoke_test_redeploys_the_previous_pins(workflow: str, job_id: str, stack: str) -> None:
    job_steps = steps(load(workflow)["jobs"][job_id])
    ids = [s.get("id") for s in job_steps]
    up, smoke = ids.index("up"), ids.index("smoke")
    assert f"mlops smoke --stack {stack}" in job_steps[smoke]["run"]
    after = job_steps[smoke + 1 :]
    condition = "failure() && (steps.up.outcome == 'failure' || steps.smoke.outcome == 'failure')"
    restore = next(s for s in after if "restore-stack-file.sh" in str(s.get("run", "")))
    redeploy = next(s for s in after if uses(s, "pulumi/actions"))
    assert restore["if"] == condition and redeploy["if"] == condition
    assert f"restore-stack-file.sh {stack} \"$PREVIOUS_REF\"" in restore["run"]
    assert after.index(restore) < after.index(redeploy) and stack_of(redeploy) == stack
    assert up < smoke


def test_the_image_is_built_once_and_staging_gets_devs_digest() -> None:
    main = load("main.yml")
    builds = [(job_id, s) for job_id, job in main["jobs"].items() for s in steps(job)
              if uses(s, "docker/build-push-action")]
    [(job_id, build)] = builds
    assert build["with"]["push"] is True and build["with"]["provenance"] is False
    assert main["jobs"][job_id]["outputs"]["digest"] == "${{ steps.build.outputs.digest }}"
    dev_steps = " ".join(str(s.get("run", "")) for s in steps(main["jobs"]["deploy-dev"]))
    staging_steps = " ".join(str(s.get("run", "")) for s in steps(main["jobs"]["deploy-staging"]))
    assert 'mlops pin --stack dev --image-digest "$DIGEST"' in dev_steps
    assert "mlops promote --from dev --to staging --image-only" in staging_steps
    assert main["jobs"]["deploy-staging"]["needs"] == ["image", "deploy-dev"]
    assert main["concurrency"] == {"group": "main-delivery", "cancel-in-progress": False}


def test_pull_requests_check_every_stack_then_preview_with_pr_comments() -> None:
    pr = load("pull-request.yml")
    assert pr["jobs"]["plan"]["strategy"]["matrix"]["stack"] == list(STAGES)
    plan_runs = [s.get("run", "") for s in steps(pr["jobs"]["plan"])]
    assert 'make plan STACK="${{ matrix.stack }}"' in plan_runs
    assert 'make check STACK="${{ matrix.stack }}"' in plan_runs
    assert "make test" in [s.get("run") for s in steps(pr["jobs"]["test"])]
    for job_id in ("test", "plan"):  # the checks need no cloud credentials
        assert not any(uses(s, "aws-actions/configure-aws-credentials") for s in steps(pr["jobs"][job_id]))
    previews = [(s, pr["jobs"][job_id]) for name, job_id, _, s in jobs_with_pulumi("preview")]
    assert [stack_of(s) for s, _ in previews] == ["${{ matrix.stack }}"]
    [(preview, job)] = previews
    assert preview["with"]["comment-on-pr"] is True
    assert [e["stack"] for e in job["strategy"]["matrix"]["include"]] == list(STAGES)
    assert job["needs"] == ["test", "plan"]


def test_the_promotion_workflow_promotes_then_opens_a_pull_request() -> None:
    promote = steps(load("promotion.yml")["jobs"]["promote"])
    script = next(s["run"] for s in promote if "mlops promote" in str(s.get("run", "")))
    assert "--check-endpoint" in script and "--report build/promotion.md" in script
    pull_request = next(s for s in promote if uses(s, "peter-evans/create-pull-request"))
    assert pull_request["with"]["add-paths"] == "stacks/Pulumi.${{ inputs.to }}.yaml"
    assert pull_request["with"]["body-path"] == "build/promotion.md"


def test_commands_scripts_and_make_targets_the_workflows_call_exist() -> None:
    cli = typer.main.get_command(app)
    targets = set(re.findall(r"^([a-z][a-z-]*):", (PROJECT_DIR / "Makefile").read_text(), re.MULTILINE))
    for name, workflow in all_workflows().items():
        for job in workflow["jobs"].values():
            for step in steps(job):
                script = str(step.get("run", ""))
                if '"${args[@]}"' in script:  # flags gathered in a bash array first
                    gathered = re.findall(r"--[a-z-]+", " ".join(re.findall(r"args\+?=\(.*?\)", script)))
                    script = script.replace('"${args[@]}"', " ".join(sorted(set(gathered))))
                for line in script.splitlines():
                    words = shlex.split(line.replace("${{ matrix.stack }}", "dev"), comments=True)
                    if words[:1] == ["make"]:
                        assert words[1] in targets, f"{name}: make {words[1]} is not a Makefile target"
                    if words and words[0].startswith("scripts/"):
                        script = PROJECT_DIR / words[0]
                        assert script.is_file() and script.stat().st_mode & stat.S_IXUSR, f"{name}: {words[0]}"
                    if words[:1] == [".venv/bin/mlops"]:
                        command = cli.commands[words[1]]  # type: ignore[attr-defined]
                        known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
                        flags = {w for w in words[2:] if w.startswith("--")}
                        assert flags <= known, f"{name}: mlops {words[1]} has no {flags - known}"
