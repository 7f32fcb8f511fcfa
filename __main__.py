"""The Pulumi program: the composition root only (settings -> components -> exports)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import DataLake, DataLakeArgs
from mlops.settings import (
    PLACEHOLDER_ACCOUNT_ID,
    SettingsError,
    StackSettings,
    load_settings,
    read_pulumi_config,
)


def _settings() -> StackSettings:
    try:
        return load_settings(pulumi.get_project(), pulumi.get_stack(), read_pulumi_config())
    except SettingsError as exc:
        # RunError fails the update with the message alone, before any resource is registered.
        raise pulumi.RunError(str(exc)) from None


def _aws_provider(settings: StackSettings) -> aws.Provider:
    return aws.Provider(
        "aws",
        region=settings.region,
        # The standard tags reach every AWS resource through the provider, so no component can forget them.
        default_tags=aws.ProviderDefaultTagsArgs(tags=settings.tags),
        # A stack file that names its account refuses to deploy anywhere else (e.g. prod config, dev creds).
        allowed_account_ids=None if settings.account_id == PLACEHOLDER_ACCOUNT_ID else [settings.account_id],
    )


def _data_lake(settings: StackSettings, account_id: pulumi.Input[str], opts: pulumi.ResourceOptions) -> DataLake:
    lake = settings.data_lake
    return DataLake(
        settings.name_prefix,
        DataLakeArgs(
            account_id=account_id,
            region=settings.region,
            protect=settings.protect_data,
            force_destroy=lake.force_destroy,
            noncurrent_version_days=lake.noncurrent_version_days,
            abort_incomplete_multipart_days=lake.abort_incomplete_multipart_days,
            raw_intelligent_tiering_days=lake.raw_intelligent_tiering_days,
            raw_glacier_days=lake.raw_glacier_days,
            access_log_retention_days=lake.access_log_retention_days,
        ),
        opts=opts,
    )


def main() -> None:
    settings = _settings()
    provider = _aws_provider(settings)
    aws_opts = pulumi.ResourceOptions(providers=[provider])
    account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id

    lake = _data_lake(settings, account_id, aws_opts)

    pulumi.export("environment", settings.environment.value)
    pulumi.export("accountId", account_id)
    pulumi.export("region", settings.region)
    pulumi.export("dataKeyArn", lake.key_arn)
    pulumi.export("buckets", lake.bucket_names)


main()
