"""The pack loads the way `pulumi preview --policy-pack policy` loads it.

The Python policy analyzer (`pulumi-analyzer-policy-python`) runs `python -u -m pulumi.policy <engine> .` with
the pack directory as working directory; `pulumi.policy` then `runpy.run_path(".", run_name="__main__")`s it.
The first tests do exactly that with `PolicyPack` replaced by a recorder (nothing is started). The last one
starts the analyzer for real, from a copy of the pack under another directory name with the project's editable
install hidden (as in the pack's own virtualenv), and talks gRPC to it like the engine would. What none of this
proves: that a given Pulumi CLI version installs `requirements.txt` into `policy/venv` by itself (no CLI here).
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import pulumi_policy
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from ruamel.yaml import YAML

from policy import ALL_RULES, PACK_NAME

from .conftest import PROJECT_DIR

PACK_DIR = PROJECT_DIR / "policy"


class RecordingPack:
    """Stands in for pulumi_policy.PolicyPack, whose constructor would start a gRPC server and block."""

    built: list[dict[str, Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        RecordingPack.built.append(kwargs)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    RecordingPack.built = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", RecordingPack)
    monkeypatch.chdir(PACK_DIR)
    return RecordingPack.built


def test_pulumi_policy_yaml_declares_a_python_pack_with_a_local_virtualenv() -> None:
    manifest = YAML(typ="safe").load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    assert isinstance(manifest["version"], str) and manifest["description"]
    requirements = (PACK_DIR / "requirements.txt").read_text()
    assert "pulumi-policy>=1.21" in requirements and "pulumi>=" in requirements
    assert (PACK_DIR / ".gitignore").read_text().strip() == "venv/"


def test_importing_the_package_starts_nothing(recorded: list[dict[str, Any]]) -> None:
    runpy.run_path(".", run_name="policy_entrypoint_import")
    assert recorded == []


@pytest.mark.parametrize(
    ("config", "expected_ha_level"),
    [({"mlops:environment": "dev"}, "advisory"), ({"mlops:environment": "prod"}, "mandatory"), ({}, "mandatory")],
)
def test_running_the_entry_point_builds_the_pack_for_the_stack_environment(
    recorded: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, config: dict[str, str], expected_ha_level: str
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    runpy.run_path(".", run_name="__main__")
    assert len(recorded) == 1
    pack = recorded[0]
    assert pack["name"] == PACK_NAME
    assert [p.name for p in pack["policies"]] == [r.name for r in ALL_RULES]
    levels = {p.name: p.enforcement_level.value for p in pack["policies"]}
    assert levels["sagemaker-endpoint-variant-ha"] == expected_ha_level
    assert levels["s3-bucket-encrypted-kms"] == "mandatory"


ANALYZER = """
import runpy, sys
# The pack's own virtualenv has pulumi-policy but not this project: hide the editable install of `policy`.
sys.meta_path = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
sys.argv = ["pulumi.policy", "127.0.0.1:0", "."]
runpy.run_module("pulumi.policy", run_name="__main__")
"""


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


@pytest.fixture
def analyzer(tmp_path: Path) -> Any:
    pack = tmp_path / "mlops-guardrails-v0.1.0"  # a published pack is unpacked under a name like this
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    env = {**os.environ, "PULUMI_CONFIG": json.dumps({"mlops:environment": "prod"}), "PYTHONPATH": ""}
    process = subprocess.Popen(
        [sys.executable, "-u", "-c", ANALYZER], cwd=pack, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = process.stdout.readline().strip() if process.stdout else ""
        assert port.isdigit(), f"the analyzer did not start: {port!r} {'' if port else process.stderr.read()}"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_analyzer_serves_the_pack_over_grpc(analyzer: Any) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME
    assert [p.name for p in info.policies] == [r.name for r in ALL_RULES]

    provider = analyzer_pb2.AnalyzerProviderResource(
        type="pulumi:providers:aws", name="aws", urn="urn:pulumi:prod::mlops::pulumi:providers:aws::aws",
        properties=_struct({"defaultTags": json.dumps({"tags": {"environment": "prod", "project": "mlops",
                                                                "owner": "o", "cost-center": "c"}})}),
    )
    model = analyzer.Analyze(analyzer_pb2.AnalyzeRequest(
        type="aws:sagemaker/model:Model", name="m", urn="urn:pulumi:prod::mlops::aws:sagemaker/model:Model::m",
        properties=_struct({"executionRoleArn": "arn:r", "primaryContainer": {"image": "img"}}),
        options=analyzer_pb2.AnalyzerResourceOptions(), provider=provider,
    ))
    flagged = {d.policyName for d in model.diagnostics}
    assert {"sagemaker-model-network-isolation", "sagemaker-model-from-registry"} <= flagged
    assert all(d.enforcementLevel == analyzer_pb2.MANDATORY for d in model.diagnostics)

    bucket = analyzer_pb2.AnalyzerResource(
        type="aws:s3/bucket:Bucket", name="b", urn="urn:pulumi:prod::mlops::aws:s3/bucket:Bucket::b",
        properties=_struct({}), options=analyzer_pb2.AnalyzerResourceOptions(protect=True), provider=provider,
    )
    stack = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[bucket]))
    by_policy = {d.policyName: d for d in stack.diagnostics}
    assert by_policy["s3-bucket-encrypted-kms"].urn == bucket.urn
    assert "Fix: Create aws.s3.BucketServerSideEncryptionConfiguration" in by_policy["s3-bucket-encrypted-kms"].message
