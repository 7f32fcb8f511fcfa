"""Use the SageMaker SDK (v3) as a pure definition generator: no AWS call, no credential lookup, no side effects.

The SDK was written to run jobs, so by default it looks things up as it goes. Each guard here answers one
of those habits, found by generating the definition with every socket blocked (tests/training):

- `import sagemaker.mlops` creates a boto3 client at import time (`sagemaker.ai_registry.air_hub`), which
  resolves credentials (IMDS on 169.254.169.254) and fails without a region: the import runs with a region,
  dummy credentials and IMDS off, and the environment is put back afterwards.
- The import calls `logging.basicConfig(level=INFO)` (`sagemaker.core.experiments._metrics`), which would
  make every later INFO log of the program print: the root logger is restored after the import.
- ModelTrainer validates its role with `iam:SimulatePrincipalPolicy` unless SAGEMAKER_VALIDATE_ROLE=false.
- Every decorated call sends telemetry over HTTPS unless the session's SDK config opts out.
- An empty SDK config makes the session read ~/.config/sagemaker/config.yaml (and an S3 config the
  SAGEMAKER_*_CONFIG_OVERRIDE variables may name), so a user's local defaults would leak into the
  definition: the session gets an explicit config instead.
- With a config, every one of the ~40 config lookups re-validates it against the SDK's JSON schema
  (0.75 s each, half a minute per definition): while generating, our own config is validated once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

# Placeholder credentials: clients are created with them, no request is ever sent with them.
_OFFLINE_CREDENTIALS = {"aws_access_key_id": "offline-definition", "aws_secret_access_key": "offline-definition"}
# A non-empty SDK config replaces the user's config files; this one only opts out of telemetry.
SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}
_QUIET_LOGGERS = ("sagemaker", "sagemaker.config", "botocore", "boto3")


@contextlib.contextmanager
def _environment(set_: Mapping[str, str], unset: tuple[str, ...] = ()) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*set_, *unset)}
    try:
        for k in unset:
            os.environ.pop(k, None)
        os.environ.update(set_)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _offline_environment(region: str, **extra: str) -> Iterator[None]:
    """What boto3's default session sees while the SDK runs: a region, placeholder credentials, no IMDS, no
    profile. The SDK uses boto3's default session behind our back (at import, and `LocalSagemakerClient()` in
    every ProcessingStep): while it runs, that is the offline session; the caller's is put back afterwards."""
    import boto3

    previous = boto3.DEFAULT_SESSION
    offline = {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": _OFFLINE_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": _OFFLINE_CREDENTIALS["aws_secret_access_key"],
        **extra,
    }
    try:
        with _environment(offline, unset=("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN")):
            boto3.DEFAULT_SESSION = _boto_session(region)
            yield
    finally:
        boto3.DEFAULT_SESSION = previous


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    loggers = [logging.getLogger(n) for n in _QUIET_LOGGERS]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Running within a PipelineSession ...", deprecation notices
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


@functools.cache
def _validate_sdk_config() -> None:
    from sagemaker.core.config.config import validate_sagemaker_config

    validate_sagemaker_config(SDK_CONFIG)


@contextlib.contextmanager
def _config_validated_once() -> Iterator[None]:
    """SDK_CONFIG is validated once per process; the SDK's own re-validations of it are skipped."""
    from sagemaker.core.config import config_manager
    from sagemaker.core.helper import session_helper

    _validate_sdk_config()
    class_validate = config_manager.SageMakerConfig.__dict__["validate_sagemaker_config"]
    module_validate = session_helper.validate_sagemaker_config

    def validate(sagemaker_config: dict[str, Any] | None = None) -> None:
        if sagemaker_config is not SDK_CONFIG:
            module_validate(sagemaker_config)

    config_manager.SageMakerConfig.validate_sagemaker_config = staticmethod(validate)  # type: ignore[method-assign]
    session_helper.validate_sagemaker_config = validate
    try:
        yield
    finally:
        config_manager.SageMakerConfig.validate_sagemaker_config = class_validate  # type: ignore[method-assign]
        session_helper.validate_sagemaker_config = module_validate


@functools.cache
def import_workflow_sdk() -> None:
    """Import the SDK's workflow modules once, offline, leaving the process as it found it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with _offline_environment("us-east-1"), _quiet():
            import sagemaker.mlops.workflow
            import sagemaker.serve.model_builder
            import sagemaker.train.model_trainer  # noqa: F401
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@contextlib.contextmanager
def offline_pipeline_session(region: str, default_bucket: str) -> Iterator[Any]:
    """A PipelineSession for `region` that cannot reach AWS, with the SDK's lookups switched off.

    `default_bucket` only names the bucket; the session would create it on first use, so the definition
    builder must give every S3 location explicitly (the tests fail if any call is attempted).
    """
    import_workflow_sdk()
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    with _offline_environment(region, SAGEMAKER_VALIDATE_ROLE="false"), _quiet(), _config_validated_once():
        yield PipelineSession(
            boto_session=_boto_session(region), default_bucket=default_bucket, sagemaker_config=SDK_CONFIG
        )


@functools.cache
def _boto_session(region: str) -> Any:
    # One per region: its loader caches the service models the SDK's clients need (a second each, uncached).
    import boto3

    return boto3.Session(region_name=region, **_OFFLINE_CREDENTIALS)
