"""Secrets: `secure:` config values and secret outputs are shown as [secret], never in clear."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CIPHERTEXT = "AAABAKn0ciGHBTJcQ3zIgDZ4h5Mo0qSBF4xVu1o2Q2PeqR0UHZ+kZg=="
PROGRAM = '''
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
token = config.require_secret("apiToken")
aws.ssm.Parameter("token", type="SecureString", value=token)
aws.s3.Bucket("plain", tags={"greeting": config.require("greeting")})
pulumi.export("token", token)
pulumi.export("derived", token.apply(lambda t: t + "-suffix"))
pulumi.export("greeting", config.require("greeting"))
'''


def test_secure_config_and_secret_outputs_are_masked(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: secretdemo\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        f"config:\n  secretdemo:apiToken:\n    secure: {CIPHERTEXT}\n  secretdemo:greeting: hello\n"
    )
    out = tmp_path / "plan.json"
    result = subprocess.run(
        [sys.executable, "-m", "mlops.cli", "plan", "--stack", "dev", "--json", str(out),
         "--project-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert CIPHERTEXT not in text and CIPHERTEXT not in result.stdout
    document = json.loads(text)
    params = {r["name"]: r for r in document["resources"] if r["type"] == "aws:ssm/parameter:Parameter"}
    assert params["token"]["inputs"]["value"] == "[secret]"
    (bucket,) = [r for r in document["resources"] if r["type"] == "aws:s3/bucket:Bucket"]
    assert bucket["inputs"]["tags"] == {"greeting": "hello"}
    assert document["outputs"] == {"derived": "[secret]", "greeting": "hello", "token": "[secret]"}
