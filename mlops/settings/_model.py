"""One deployable model: its name, registry pin, training and serving settings."""

from __future__ import annotations

from pydantic import Field

from ._base import NAME_PATTERN, SettingsModel
from ._endpoint import EndpointSettings
from ._training import TrainingSettings

# SageMaker model package ARNs: arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>
MODEL_PACKAGE_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9](-*[A-Za-z0-9]){0,62}/\d+$"
)


class ModelSettings(SettingsModel):
    """A model the stack trains, registers and serves."""

    name: str = Field(
        ..., pattern=NAME_PATTERN, min_length=2, max_length=32,
        description="Short model name; part of every resource name of this model, so keep it stable.",
    )
    description: str = Field("", max_length=1024, description="What the model predicts; shown in the registry.")
    model_package_arn: str | None = Field(
        None,
        pattern=MODEL_PACKAGE_ARN_PATTERN,
        description=(
            "The registered, approved model version this stack serves. Omit (dev only) to serve the locally "
            "packaged model.tar.gz uploaded by the stack, before the first pipeline run."
        ),
    )
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    endpoint: EndpointSettings = Field(default_factory=EndpointSettings)
