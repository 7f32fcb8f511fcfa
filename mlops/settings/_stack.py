"""The root of the settings model: everything one stack file says."""

from __future__ import annotations

from pydantic import Field, model_validator

from ._base import NAME_PATTERN, SettingsModel
from ._core import DataLakeSettings, Environment, ImageSettings
from ._endpoint import model_endpoint_problems
from ._model import ModelSettings
from ._network import NetworkSettings, network_problems
from ._training import RegistrySettings, registry_problems, training_problems

# Placeholder account used by the offline plan when a stack file names none (AWS's documentation account).
PLACEHOLDER_ACCOUNT_ID = "123456789012"

# Pulumi appends "-" and 7 random hex characters to auto-named resources; S3 bucket names stop at 63.
_AUTONAME_SUFFIX = 8
_BUCKET_NAME_LIMIT = 63
LONGEST_BUCKET_ROLE = "access-logs"
_SAGEMAKER_NAME_LIMIT = 63


class StackSettings(SettingsModel):
    """Every setting of one stack (environment). Keys are read from the `mlops:` config namespace."""

    project: str = Field(..., pattern=NAME_PATTERN, description="Pulumi project name (from Pulumi.yaml).")
    stack: str = Field(..., pattern=NAME_PATTERN, description="Pulumi stack name.")
    region: str = Field(..., pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$", description="aws:region.")
    environment: Environment = Field(..., description="Promotion stage of this stack: dev, staging or prod.")
    owner: str = Field(..., min_length=1, max_length=256, description="Team that owns the stack (tag).")
    cost_center: str = Field(..., min_length=1, max_length=256, description="Cost centre billed (tag).")
    account_id: str = Field(
        PLACEHOLDER_ACCOUNT_ID,
        pattern=r"^\d{12}$",
        description="AWS account the stack deploys to; the offline plan answers caller-identity with it.",
    )
    protect_data: bool = Field(
        False,
        description="Protect stateful resources (buckets, keys, registry) and retain them on delete.",
    )
    data_lake: DataLakeSettings = Field(default_factory=DataLakeSettings)
    image: ImageSettings = Field(default_factory=ImageSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    models: list[ModelSettings] = Field(default_factory=list, description="Models trained and served.")
    network: NetworkSettings | None = Field(
        None, description="Existing VPC (subnets, security groups) the models run in; required in staging/prod."
    )

    @property
    def name_prefix(self) -> str:
        """Prefix of every physical name: `<project>-<stack>`."""
        return f"{self.project}-{self.stack}"

    def model_resource_name(self, model: ModelSettings) -> str:
        """`<project>-<stack>-<model>`: the SageMaker endpoint name, the model package group name and the
        pipeline name of a model. Fixed (not auto-named) because the CLI, alarms and other accounts refer to
        them; the length rule in `_check_cross_field_rules` keeps it within SageMaker's 63 characters."""
        return f"{self.name_prefix}-{model.name}"

    @property
    def tags(self) -> dict[str, str]:
        """The standard tags every AWS resource carries (through the provider's default tags)."""
        return {
            "project": self.project,
            "environment": self.environment.value,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
        }

    @model_validator(mode="after")
    def _check_cross_field_rules(self) -> StackSettings:
        problems: list[str] = []
        if self.environment is Environment.PROD:
            if not self.protect_data:
                problems.append("mlops:protectData: prod must protect its data; set it to true")
            if self.data_lake.force_destroy:
                problems.append("mlops:dataLake.forceDestroy: prod must keep data on delete; set it to false")
            if self.image.digest is None:
                problems.append("mlops:image.digest: prod serves a pinned image; set the sha256 digest CI built")
        longest = len(self.name_prefix) + 1 + len(LONGEST_BUCKET_ROLE) + _AUTONAME_SUFFIX
        if longest > _BUCKET_NAME_LIMIT:
            problems.append(
                f"project/stack name '{self.name_prefix}' is too long: bucket names would reach {longest} "
                f"characters (S3 allows {_BUCKET_NAME_LIMIT}); shorten the stack or project name by "
                f"{longest - _BUCKET_NAME_LIMIT}"
            )
        seen: set[str] = set()
        problems += network_problems(self.environment, self.region, self.network)
        problems += registry_problems(self.registry, self.account_id)
        for index, model in enumerate(self.models):
            problems += training_problems(index, model.training, self.environment, self.model_resource_name(model))
            problems += model_endpoint_problems(
                index, model, self.model_resource_name(model), self.environment, self.region,
                self.image.digest is not None,
            )
            if model.name in seen:
                problems.append(f"mlops:models[{index}].name: '{model.name}' is used twice; names must be unique")
            seen.add(model.name)
            if len(self.model_resource_name(model)) > _SAGEMAKER_NAME_LIMIT:
                problems.append(
                    f"mlops:models[{index}].name: '{self.model_resource_name(model)}' (project-stack-model) is "
                    f"longer than SageMaker's {_SAGEMAKER_NAME_LIMIT} characters; shorten the model name"
                )
            if model.model_package_arn is None and self.environment is not Environment.DEV:
                problems.append(
                    f"mlops:models[{index}].modelPackageArn: {self.environment.value} serves only registered "
                    f"model versions; promote one with `mlops promote` (model '{model.name}')"
                )
        if problems:
            raise ValueError("\n".join(problems))  # one problem per line; _load splits them again
        return self
