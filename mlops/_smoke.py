"""Smoke test of a deployed SageMaker endpoint: it is InService and answers a sample payload sensibly."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import botocore.exceptions

from ._aws import AwsError, AwsSession, aws_call, error_code, error_message

CONTENT_TYPE = "text/csv"
ACCEPT = "application/json"
# Longest answer excerpt shown in tables and logs.
ANSWER_SHOWN = 160


class PayloadError(Exception):
    """The sample payload file cannot be used; the message names the file."""


@dataclass(frozen=True)
class Payload:
    """A CSV sample request: a header line and at least one row of features."""

    path: Path
    body: bytes
    rows: int

    @classmethod
    def read(cls, path: Path) -> Payload:
        """Read and sanity-check a CSV payload (header + rows)."""
        try:
            body = path.read_bytes()
            lines = [line for line in body.decode("utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            raise PayloadError(f"{path}: no such payload file (pass --payload FILE, a CSV with a header)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PayloadError(f"{path}: cannot read it as UTF-8 text ({exc})") from None
        if len(lines) < 2:
            raise PayloadError(f"{path}: needs a header line and at least one data row (has {len(lines)} line(s))")
        return cls(path, body, len(lines) - 1)


@dataclass(frozen=True)
class SmokeResult:
    """One endpoint's smoke test."""

    model: str
    endpoint: str
    status: str | None
    latency_ms: float | None
    answer: str
    problem: str | None

    @property
    def ok(self) -> bool:
        """True when the endpoint is InService and answered as expected."""
        return self.problem is None

    def to_json(self) -> dict[str, object]:
        """For `--json` reports."""
        return {
            "model": self.model, "endpoint": self.endpoint, "status": self.status,
            "latencyMs": self.latency_ms, "answer": self.answer, "ok": self.ok, "problem": self.problem,
        }  # fmt: skip


def answer_problem(body: bytes, rows: int) -> str | None:
    """Why an answer is not the model server's (model_code/server.py): JSON `{"predictions": [...]}` with one
    prediction per row sent. None when it is."""
    try:
        answer = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "the answer is not JSON (expected {\"predictions\": [...]}; pass --any-answer for other servers)"
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list):
        return "the answer has no 'predictions' list (pass --any-answer for other servers)"
    if len(predictions) != rows:
        return f"the answer has {len(predictions)} prediction(s) for {rows} row(s) sent"
    return None


def endpoint_status(session: AwsSession, region: str, endpoint: str) -> tuple[str | None, str]:
    """(EndpointStatus, FailureReason) of an endpoint; status None when it does not exist."""
    with aws_call("sagemaker:DescribeEndpoint", endpoint):
        try:
            described = session.client("sagemaker", region).describe_endpoint(EndpointName=endpoint)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "ValidationException" and "could not find" in error_message(exc).lower():
                return None, ""
            raise
    return str(described["EndpointStatus"]), str(described.get("FailureReason") or "")


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip().replace("\n", "\\n")
    return text if len(text) <= ANSWER_SHOWN else text[: ANSWER_SHOWN - 3] + "..."


def smoke_endpoint(
    session: AwsSession, region: str, model: str, endpoint: str, payload: Payload, check_answer: bool = True
) -> SmokeResult:
    """Describe the endpoint, then (if InService) invoke it once with the payload and judge the answer."""
    try:
        status, failure = endpoint_status(session, region, endpoint)
    except AwsError as exc:
        return SmokeResult(model, endpoint, None, None, "", str(exc))
    if status is None:
        return SmokeResult(model, endpoint, None, None, "", f"endpoint {endpoint} does not exist in {region} "
                           "for these credentials (is the stack deployed, and are these its account's credentials?)")
    if status != "InService":
        why = f": {failure}" if failure else ""
        return SmokeResult(model, endpoint, status, None, "", f"endpoint {endpoint} is {status}{why}; only an "
                           "InService endpoint is smoke-tested")
    runtime = session.client("sagemaker-runtime", region)
    started = time.perf_counter()
    try:
        with aws_call("sagemaker:InvokeEndpoint", endpoint):
            try:
                response = runtime.invoke_endpoint(
                    EndpointName=endpoint, ContentType=CONTENT_TYPE, Accept=ACCEPT, Body=payload.body
                )
                body = response["Body"].read()
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) != "ModelError":
                    raise
                # The container answered with an error status: report its own words.
                code = exc.response.get("OriginalStatusCode", "?")
                return SmokeResult(model, endpoint, status, None, error_message(exc)[:ANSWER_SHOWN],
                                   f"the model answered HTTP {code}: {error_message(exc)[:ANSWER_SHOWN]}")
    except AwsError as exc:
        return SmokeResult(model, endpoint, status, None, "", str(exc))
    latency_ms = (time.perf_counter() - started) * 1000.0
    problem = answer_problem(body, payload.rows) if check_answer else None
    return SmokeResult(model, endpoint, status, round(latency_ms, 1), _excerpt(body), problem)
