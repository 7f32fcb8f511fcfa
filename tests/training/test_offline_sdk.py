"""Generating the definition with the SageMaker SDK makes no network call and leaves the process as it was.

It runs in a fresh interpreter (the SDK import is part of what is checked) with every socket refused, a bogus
AWS endpoint, a profile that does not exist, and a user SDK config that would change the definition if it
leaked in. The result must equal the definition generated here, in the test process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from components._pipeline_definition import PipelineSpec, pipeline_definition

from .conftest import PROJECT_DIR

SPEC = PipelineSpec(
    pipeline_name="mlops-dev-fraud-detector", region="eu-central-1",
    role_arn="arn:aws:iam::111111111111:role/mlops-dev-fraud-detector-exec-1234567",
    image_uri="111111111111.dkr.ecr.eu-central-1.amazonaws.com/mlops-model@sha256:" + "a" * 64,
    kms_key_arn="arn:aws:kms:eu-central-1:111111111111:key/0000", raw_data_uri="s3://raw/incoming/fraud-detector/",
    curated_bucket="curated", artifacts_bucket="artifacts", work_prefix="pipelines/fraud-detector",
    code_uri="s3://artifacts/code/fraud-detector/abc/", code_sha256="abc",
    model_package_group="mlops-dev-fraud-detector", evaluation_threshold=0.8, approval_status="Approved",
    instance_type="ml.m5.large", instance_count=1, processing_instance_type="ml.m5.large", volume_size_gb=30,
    max_runtime_seconds=3600, spot_max_wait_seconds=7200, network_isolation=True, inter_container_encryption=True,
    hyperparameters=(("max-iter", "100"),),
)

SCRIPT = textwrap.dedent("""
    import json, logging, os, socket, sys, threading

    attempts, started = [], []

    def refuse(*args, **kwargs):
        attempts.append(repr(args)[:200])
        raise OSError(f"network refused by the test: {args!r}")

    socket.socket.connect = socket.socket.connect_ex = refuse
    socket.getaddrinfo = socket.create_connection = refuse
    thread_start = threading.Thread.start

    def start(thread):
        started.append(thread.name)
        thread_start(thread)

    threading.Thread.start = start

    import boto3
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    from components._pipeline_definition import PipelineSpec, pipeline_definition

    spec = json.loads(sys.argv[1])
    spec["hyperparameters"] = tuple(tuple(p) for p in spec["hyperparameters"])
    spec["subnet_ids"], spec["security_group_ids"] = tuple(spec["subnet_ids"]), tuple(spec["security_group_ids"])
    text = pipeline_definition(PipelineSpec(**spec))
    print(json.dumps({
        "definition": text,
        "network_attempts": attempts,
        "threads_started": started,
        "root_logger_untouched": root.handlers == handlers and root.level == level,
        "default_session": repr(boto3.DEFAULT_SESSION),
        "environment": {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_DEFAULT_REGION",
                                                       "SAGEMAKER_VALIDATE_ROLE")},
    }))
""")

# A user's SDK defaults that would change the jobs if the generator read them.
USER_CONFIG = textwrap.dedent("""
    SchemaVersion: '1.0'
    SageMaker:
      TrainingJob:
        EnableNetworkIsolation: false
        Environment:
          LEAKED_FROM_USER_CONFIG: 'yes'
      ProcessingJob:
        Environment:
          LEAKED_FROM_USER_CONFIG: 'yes'
""")


def test_the_definition_is_generated_offline_and_the_process_is_left_as_it_was(tmp_path: Path) -> None:
    config = tmp_path / "sagemaker-config.yaml"
    config.write_text(USER_CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env.update(
        HOME=str(tmp_path), PYTHONPATH=str(PROJECT_DIR),
        AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_PROFILE="no-such-profile", AWS_ACCESS_KEY_ID="callers-own-key",
        SAGEMAKER_USER_CONFIG_OVERRIDE=str(config), SAGEMAKER_ADMIN_CONFIG_OVERRIDE=str(config),
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(dataclasses.asdict(SPEC))],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["definition"] == pipeline_definition(SPEC)
    assert "LEAKED_FROM_USER_CONFIG" not in report["definition"]
    assert report["network_attempts"] == []
    assert report["threads_started"] == []  # the SDK's telemetry is sent from a thread
    assert report["root_logger_untouched"] is True
    assert report["default_session"] == "None"
    assert report["environment"] == {"AWS_ACCESS_KEY_ID": "callers-own-key", "AWS_PROFILE": "no-such-profile",
                                     "AWS_DEFAULT_REGION": None, "SAGEMAKER_VALIDATE_ROLE": None}


def test_the_region_of_the_spec_is_the_region_of_the_definition() -> None:
    text = pipeline_definition(SPEC)
    assert "eu-central-1" in text and "us-east-1" not in text
