"""`mlops smoke` against moto's server: the sagemaker-runtime client path, latency and the answer check.

moto's InvokeEndpoint does not run a model: it returns what the test queued through moto's documented results
API (or a canned "body"). So these tests prove the client path and the judging of answers, not the model; the
model server's answers are tested against the real server in tests/model_code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.exceptions
import pytest

from mlops._smoke import Payload, PayloadError, answer_problem, smoke_endpoint

from .conftest import PROJECT_DIR, Aws, run

TWO_PREDICTIONS = {"predictions": [{"fraud_probability": 0.02, "is_fraud": 0},
                                   {"fraud_probability": 0.97, "is_fraud": 1}], "model_version": "3"}


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_healthy_endpoint_reports_latency_and_answer(aws: Aws, project: Path, payload: Path, tmp_path: Path) -> None:
    aws.create_endpoint("mlops-staging-fraud-detector")
    aws.queue_answers(TWO_PREDICTIONS)
    report = tmp_path / "smoke.json"

    result = run(project, "smoke", "--stack", "staging", "--payload", str(payload), "--json", str(report))

    assert result.exit_code == 0, result.stderr
    assert "mlops-staging-fraud-detector" in result.stdout and '"fraud_probability": 0.97' in result.stdout
    document = json.loads(report.read_text())
    [entry] = document["results"]
    assert document["rows"] == 2
    assert entry["ok"] is True and entry["status"] == "InService" and entry["problem"] is None
    assert entry["latencyMs"] > 0
    assert json.loads(entry["answer"]) == TWO_PREDICTIONS


def test_a_missing_endpoint_fails(aws: Aws, project: Path, payload: Path) -> None:
    result = run(project, "smoke", "--stack", "prod", "--payload", str(payload))

    assert result.exit_code == 1
    assert "endpoint mlops-prod-fraud-detector does not exist in us-east-1" in flat(result.stdout)
    assert "1 of 1 endpoint(s) of stack 'prod' failed the smoke test" in flat(result.stderr)


def test_an_answer_that_is_not_the_model_servers_fails_unless_any_answer(
    aws: Aws, project: Path, payload: Path
) -> None:
    aws.create_endpoint("mlops-dev-fraud-detector")  # no queued answer: moto replies with the text "body"

    strict = run(project, "smoke", "--stack", "dev", "--payload", str(payload))
    lenient = run(project, "smoke", "--stack", "dev", "--payload", str(payload), "--any-answer")

    assert strict.exit_code == 1 and "the answer is not JSON" in flat(strict.stdout)
    assert lenient.exit_code == 0, lenient.stdout


def test_the_default_payload_is_the_models_sample(aws: Aws, project: Path) -> None:
    (project / "model_code").mkdir()
    (project / "model_code" / "sample.csv").write_text("a,b\n1,2\n3,4\n5,6\n", encoding="utf-8")
    aws.create_endpoint("mlops-dev-fraud-detector")
    aws.queue_answers({"predictions": [0.1, 0.2]})

    result = run(project, "smoke", "--stack", "dev")

    assert result.exit_code == 1
    assert "the answer has 2 prediction(s) for 3 row(s) sent" in flat(result.stdout)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stack", "dev", "--model", "churn"], "--model churn: stack 'dev' declares no such model"),
        (["--stack", "qa"], "stack 'qa': no stack file"),
        (["--stack", "dev", "--payload", "missing.csv"], "missing.csv: no such payload file"),
    ],
)
def test_bad_requests_are_clear_errors(aws: Aws, project: Path, args: list[str], expected: str) -> None:
    result = run(project, "smoke", *args)
    assert result.exit_code == 2
    assert expected in flat(result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("body", "rows", "expected"),
    [
        (json.dumps(TWO_PREDICTIONS).encode(), 2, None),
        (b'{"predictions": []}', 1, "the answer has 0 prediction(s) for 1 row(s) sent"),
        (b'{"scores": [1]}', 1, "the answer has no 'predictions' list"),
        (b"[0.1]", 1, "the answer has no 'predictions' list"),
        (b"0.1,0\n", 1, "the answer is not JSON"),
        (b"\xff", 1, "the answer is not JSON"),
    ],
)
def test_answer_judging(body: bytes, rows: int, expected: str | None) -> None:
    problem = answer_problem(body, rows)
    assert problem == expected if expected is None else expected in (problem or "")


def test_the_repository_sample_is_a_usable_payload() -> None:
    sample = Payload.read(PROJECT_DIR / "model_code" / "sample.csv")
    assert sample.rows >= 1


@pytest.mark.parametrize(("text", "expected"), [("", "has 0 line(s)"), ("a,b\n", "has 1 line(s)")])
def test_a_payload_needs_a_header_and_rows(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PayloadError, match=re.escape(expected)):
        Payload.read(path)


class _StubSession:
    """Stands in for AwsSession where moto cannot reach a state: endpoints that are not InService and
    containers that answer with an error (moto's endpoints are InService at once and always answer)."""

    def __init__(self, described: dict[str, str], error: dict[str, object] | None = None) -> None:
        self.described, self.error = described, error

    def client(self, service: str, region: str) -> _StubSession:
        return self

    def describe_endpoint(self, EndpointName: str) -> dict[str, str]:  # boto3's argument name
        return self.described

    def invoke_endpoint(self, **kwargs: object) -> dict[str, object]:
        assert self.error is not None
        raise botocore.exceptions.ClientError(self.error, "InvokeEndpoint")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        ("Failed", "image pull failed", "endpoint e1 is Failed: image pull failed; only an InService endpoint"),
        ("Updating", "", "endpoint e1 is Updating; only an InService endpoint is smoke-tested"),
    ],
)
def test_an_endpoint_that_is_not_in_service_is_not_invoked(
    payload: Path, status: str, reason: str, expected: str
) -> None:
    stub = _StubSession({"EndpointStatus": status, "FailureReason": reason})
    result = smoke_endpoint(stub, "us-east-1", "m1", "e1", Payload.read(payload))  # type: ignore[arg-type]
    assert not result.ok and result.status == status and expected in (result.problem or "")
    assert result.latency_ms is None


def test_a_container_error_is_reported_with_its_status_code(payload: Path) -> None:
    error = {"Error": {"Code": "ModelError", "Message": "Received client error (400): row 0: amount is missing"},
             "OriginalStatusCode": 400}
    stub = _StubSession({"EndpointStatus": "InService"}, error)
    result = smoke_endpoint(stub, "us-east-1", "m1", "e1", Payload.read(payload))  # type: ignore[arg-type]
    assert result.problem == "the model answered HTTP 400: Received client error (400): row 0: amount is missing"
