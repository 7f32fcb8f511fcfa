"""boto3 sessions and clients for the commands that talk to AWS, and AWS failures as one-line messages.

Credentials come from boto3's default chain (environment, `--profile`, SSO, the CI role assumed through OIDC);
the region comes from the stack (`aws:region`), never from the machine. `AWS_ENDPOINT_URL` (boto3 >= 1.28)
points every client at another endpoint; the integration tests use it to talk to moto's server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader

# Standard retry mode backs off on throttling; short connect timeout so a wrong endpoint fails fast in CI.
_CLIENT_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=70)


class AwsError(Exception):
    """An AWS call failed; the message says which call, on what, and the service's reason."""


class AwsSession:
    """One boto3 session (credentials) and the clients made from it, one per service and region."""

    _loader: Loader | None = None

    def __init__(self, profile: str | None = None) -> None:
        core = botocore.session.Session()
        # Parsing the SageMaker API model takes a few hundred ms per session; the parsed models are read-only
        # data, so every session of the process shares one loader (matters when one process runs many commands).
        if AwsSession._loader is None:
            AwsSession._loader = core.get_component("data_loader")
        else:
            core.register_component("data_loader", AwsSession._loader)
        self._profile = profile
        try:
            self._session = boto3.Session(botocore_session=core, profile_name=profile)
        except botocore.exceptions.ProfileNotFound:
            raise self._no_profile() from None
        paths = AwsSession._loader.search_paths  # boto3 appends its data directory once per session
        paths[:] = list(dict.fromkeys(paths))
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        """A cached client for `service` in `region`."""
        key = (service, region)
        if key not in self._clients:
            try:
                self._clients[key] = self._session.client(  # type: ignore[call-overload]
                    service, region_name=region, config=_CLIENT_CONFIG
                )
            except botocore.exceptions.ProfileNotFound:
                raise self._no_profile() from None
        return self._clients[key]

    def _no_profile(self) -> AwsError:
        return AwsError(f"AWS profile '{self._profile}' is not configured (see `aws configure list-profiles`)")

    def caller_arn(self, region: str) -> str:
        """Who the credentials are (printed so a run's log says whose rights checked the gates)."""
        with aws_call("sts:GetCallerIdentity", "the AWS credentials"):
            return str(self.client("sts", region).get_caller_identity()["Arn"])


def error_code(exc: botocore.exceptions.ClientError) -> str:
    """The AWS error code of a failed call (e.g. `ValidationException`)."""
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def error_message(exc: botocore.exceptions.ClientError) -> str:
    """The service's own message of a failed call."""
    return str(exc.response.get("Error", {}).get("Message", "")).strip()


@contextmanager
def aws_call(action: str, target: str) -> Iterator[None]:
    """Turn botocore failures inside the block into AwsError("<action> on <target> failed: ...").

    ClientErrors a caller wants to interpret (e.g. "not found") should be caught inside the block.
    """
    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise AwsError(
            f"{action} on {target}: no AWS credentials found; set AWS_PROFILE or pass --profile "
            "(in CI: aws-actions/configure-aws-credentials with the environment's role)"
        ) from None
    except botocore.exceptions.ClientError as exc:
        raise AwsError(f"{action} on {target} failed: {error_code(exc)}: {error_message(exc)}") from None
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as exc:
        raise AwsError(f"{action} on {target}: cannot reach AWS ({exc})") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise AwsError(f"{action} on {target} failed: {exc}") from None
