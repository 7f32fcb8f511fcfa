"""Per-model real-time endpoint settings."""

from __future__ import annotations

from pydantic import Field

from ._base import SettingsModel


class EndpointSettings(SettingsModel):
    """How a model is served on a SageMaker real-time endpoint."""

    data_capture_percent: int = Field(
        20, ge=0, le=100, description="Share of requests and responses captured to the capture bucket."
    )
