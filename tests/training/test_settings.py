"""Training settings: every bad value is refused with a message naming the stack, the config key and the fix,
through the same path `pulumi up` takes (the program under the offline plan), never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from mlops.settings import SettingsError, TrainingSettings, load_settings
from mlops.settings._training import sagemaker_instance_types, schedule_problem

from .conftest import PROJECT_DIR, refused, stack_config, with_training

T = "mlops:models[0].training"

BAD_TRAINING = [
    # (stack, training overrides, exact message line)
    ("dev", {"schedule": "cron(0 3 * * * *)"},
     f"{T}.schedule: not a valid schedule: exactly one of day-of-month and day-of-week must be '?' "
     "(EventBridge Scheduler's rule) (got 'cron(0 3 * * * *)')"),
    ("dev", {"schedule": "cron(0 25 ? * MON *)"},
     f"{T}.schedule: not a valid schedule: the hours field: '25' is outside 0-23 (got 'cron(0 25 ? * MON *)')"),
    ("dev", {"schedule": "cron(*/5 * ? * * *)"},
     f"{T}.schedule: not a valid schedule: the minutes field '*/5' fires more than once an hour; name one "
     "minute, e.g. 0 (got 'cron(*/5 * ? * * *)')"),
    ("dev", {"schedule": "rate(10 minutes)"},
     f"{T}.schedule: not a valid schedule: retraining every 10 minute(s) starts a storm of executions; "
     "schedule at most hourly (got 'rate(10 minutes)')"),
    ("dev", {"schedule": "daily"},
     f"{T}.schedule: not a valid schedule: use cron(minutes hours day-of-month month day-of-week year) or "
     "rate(N hours|days) (got 'daily')"),
    ("dev", {"evaluationThreshold": 1.2},
     f"{T}.evaluationThreshold: the ROC-AUC threshold must be between 0 and 1, e.g. 0.85 (got 1.2)"),
    ("dev", {"evaluationThreshold": -0.1},
     f"{T}.evaluationThreshold: the ROC-AUC threshold must be between 0 and 1, e.g. 0.85 (got -0.1)"),
    ("dev", {"instanceType": "ml.x9.large"},
     f"{T}.instanceType: unknown instance type family 'x9' for training jobs; known families: "),
    ("dev", {"instanceType": "ml.m5.huge"}, f"{T}.instanceType: Training jobs have no 'huge' size of m5; sizes: "),
    ("dev", {"processingInstanceType": "m5.large"},
     f"{T}.processingInstanceType: not an instance type; write it as ml.<family>.<size>, e.g. ml.m5.xlarge "
     "(got 'm5.large')"),
    ("dev", {"hyperparameters": {"Max Iter": 3}}, f"{T}.hyperparameters.Max Iter.[key]: String should match pattern"),
    ("dev", {"scheduleTimezone": "Mars/Olympus", "schedule": "cron(0 3 ? * MON *)"},
     f"{T}.scheduleTimezone: unknown time zone; use an IANA name such as UTC or Europe/Berlin (got 'Mars/Olympus')"),
    ("dev", {"scheduleTimezone": "Europe/Berlin"},
     f"{T}.scheduleTimezone: applies to a schedule; set schedule or remove it"),
    ("dev", {"spot": False, "maxWaitMinutes": 120},
     f"{T}.maxWaitMinutes: applies to spot training only; remove it or set spot: true"),
    ("dev", {"spot": True, "maxWaitMinutes": 30, "maxRuntimeMinutes": 60},
     f"{T}.maxWaitMinutes: 30 is less than maxRuntimeMinutes 60; SageMaker needs the wait limit to cover the run"),
    ("dev", {"debounceMinutes": 60, "maxDelayMinutes": 30},
     f"{T}.maxDelayMinutes: 30 is less than debounceMinutes 60; the cap must be at least the quiet period"),
    ("dev", {"debounceMinutes": 0}, f"{T}.debounceMinutes: Input should be greater than or equal to 1 (got 0)"),
    ("dev", {"epochs": 3}, f"{T}.epochs: unknown key (a typo?)"),
    ("prod", {"approval": "auto"}, f"{T}.approval: prod registers model versions for a person to approve; set it "
     "to manual"),
    ("staging", {"approval": "auto"}, f"{T}.approval: staging registers model versions for a person to approve"),
    ("prod", {"networkIsolation": False}, f"{T}.networkIsolation: prod trains with it on; set it to true"),
    ("prod", {"interContainerEncryption": False},
     f"{T}.interContainerEncryption: prod trains with it on; set it to true"),
]


@pytest.mark.parametrize(("stack", "training", "message"), BAD_TRAINING, ids=[c[2][len(T):][:60] for c in BAD_TRAINING])
def test_bad_training_settings_are_refused_with_the_key_and_the_fix(
    stack: str, training: dict[str, object], message: str
) -> None:
    error = refused(stack, {"mlops:models": with_training(stack, **training)})
    assert error.startswith(f"stack '{stack}' has ")
    assert message in error


def test_every_field_problem_is_reported_at_once() -> None:
    error = refused("dev", {"mlops:models": with_training(
        "dev", evaluationThreshold=2, schedule="weekly", instanceType="ml.x9.large")})
    assert "3 configuration problem(s)" in error
    assert all(f"{T}.{key}:" in error for key in ("evaluationThreshold", "schedule", "instanceType"))


def test_cross_field_rules_run_together() -> None:
    error = refused("prod", {"mlops:models": with_training("prod", approval="auto", networkIsolation=False)})
    assert "2 configuration problem(s)" in error
    assert f"{T}.approval" in error and f"{T}.networkIsolation" in error


def test_registry_consumers_must_be_other_accounts() -> None:
    error = refused("dev", {"mlops:registry": {"consumerAccountIds": ["111111111111", "222222222222", "222222222222"]}})
    assert "mlops:registry.consumerAccountIds: 111111111111 is this stack's own account" in error
    assert "mlops:registry.consumerAccountIds: an account is listed twice" in error
    error = refused("dev", {"mlops:registry": {"consumerAccountIds": ["22"]}})
    assert "mlops:registry.consumerAccountIds[0]: String should match pattern '^\\d{12}$' (got '22')" in error


def test_a_model_name_too_long_for_the_pipelines_role_names_is_refused() -> None:
    config = {**stack_config("dev"), "mlops:models": [{**stack_config("dev")["mlops:models"][0],
                                                       "name": "credit-limit-recommender-v23456"}]}
    with pytest.raises(SettingsError) as caught:
        load_settings("mlops", "feature-fraud-model-branch", config)
    assert ("mlops:models[0].name: the training pipeline's IAM roles would be named "
            "'mlops-feature-fraud-model-branch-credit-limit-recommender-v23456-starter-xxxxxxx'") in str(caught.value)


def test_the_command_line_reports_bad_training_settings_without_a_traceback(tmp_path: Path) -> None:
    yaml = YAML()
    document = yaml.load((PROJECT_DIR / "stacks/Pulumi.prod.yaml").read_text())
    document["config"]["mlops:models"][0]["training"]["approval"] = "auto"
    stack_file = tmp_path / "Pulumi.prod.yaml"
    with stack_file.open("w") as handle:
        yaml.dump(document, handle)
    out = tmp_path / "plan.json"
    result = subprocess.run(
        [sys.executable, "-m", "mlops.cli", "plan", "--stack", str(stack_file), "--json", str(out),
         "--project-dir", str(PROJECT_DIR)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "error: stack 'prod' has 1 configuration problem(s):" in result.stderr
    assert f"{T}.approval: prod registers model versions for a person to approve; set it to manual" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


SCHEDULES = [
    ("cron(0 3 ? * MON *)", None),
    ("cron(30 2 1 * ? *)", None),
    ("cron(0 0/6 * * ? *)", None),
    ("cron(0 3 ? * MON-FRI *)", None),
    ("cron(0 3 L * ? *)", None),
    ("cron(0 3 ? * 6#3 *)", None),
    ("cron(0 3 15W * ? 2030)", None),
    ("rate(1 day)", None),
    ("rate(12 hours)", None),
    ("rate(2 hour)", "write rate(2 hours): AWS wants the singular unit for 1 and the plural otherwise"),
    ("rate(1 days)", "write rate(1 day): AWS wants the singular unit for 1 and the plural otherwise"),
    ("cron(0 3 * *)", "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not 4"),
    ("cron(0 3 5-1 * ? *)", "the day-of-month field: the range '5-1' runs backwards"),
    ("cron(0 3 ? * FOO *)", "the day-of-week field: 'FOO' is outside 1-7 (or SUN-SAT)"),
    ("cron(0 3 ? * 1#7 *)", "the day-of-week field's '#7' must be #1-#5"),
    ("cron(0 3 */0 * ? *)", "the day-of-month field's step '/0' must be a positive number"),
    ("cron(0 3 ? 13 MON *)", "the month field: '13' is outside 1-12 (or JAN-DEC)"),
    ("at(2030-01-01T00:00:00)", "use cron(minutes hours day-of-month month day-of-week year) or rate(N hours|days)"),
]


@pytest.mark.parametrize(("expression", "problem"), SCHEDULES)
def test_schedule_expressions(expression: str, problem: str | None) -> None:
    assert schedule_problem(expression) == problem


def test_instance_types_come_from_the_sagemaker_api_model() -> None:
    training = sagemaker_instance_types("Training")
    assert "ml.m5.xlarge" in training and "ml.p4d.24xlarge" in training
    assert "ml.t3.medium" in sagemaker_instance_types("Processing")
    assert TrainingSettings(instanceType="ml.g5.2xlarge").instance_type == "ml.g5.2xlarge"


def test_defaults_are_the_secure_ones() -> None:
    settings = TrainingSettings()
    assert (settings.network_isolation, settings.inter_container_encryption, settings.spot) == (True, True, False)
    assert settings.approval.value == "manual"
    assert settings.spot_max_wait_minutes is None
    assert TrainingSettings(spot=True, maxRuntimeMinutes=90).spot_max_wait_minutes == 180
    assert TrainingSettings(hyperparameters={"early-stopping": True, "max-iter": 3}).hyperparameter_strings == {
        "early-stopping": "true", "max-iter": "3"}
