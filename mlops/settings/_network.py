"""The network a stack's models run in: an existing VPC's private subnets and security groups (adopted)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ._base import SettingsModel
from ._core import Environment

# SageMaker spreads an endpoint's instances over the availability zones of the subnets it is given; two zones
# is the least that survives the loss of one.
PROD_MIN_AVAILABILITY_ZONES = 2


class SubnetSettings(SettingsModel):
    """One private subnet of the adopted VPC, with its zone.

    The zone is stated in the stack file because an offline plan cannot look it up, and prod's availability
    rule (instances in two zones) is checked against it.
    """

    id: str = Field(..., pattern=r"^subnet-[0-9a-f]{8,17}$", description="Subnet id (subnet-...).")
    availability_zone: str = Field(
        ..., pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d[a-z]$", description="Zone of the subnet, e.g. us-east-1a."
    )


class NetworkSettings(SettingsModel):
    """Adopt an existing VPC: SageMaker places the endpoints' network interfaces in these subnets.

    The stack creates no VPC (yet): the section names private subnets (no route to the internet; S3, ECR,
    CloudWatch Logs, STS and SageMaker runtime reached through VPC endpoints) and security groups of a VPC
    someone else manages. Omit the section in dev to run without a VPC; staging and prod require it.
    """

    subnets: list[SubnetSettings] = Field(
        ..., min_length=1, max_length=16, description="Private subnets, each with its availability zone."
    )
    security_group_ids: list[Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]] = Field(
        ...,
        min_length=1,
        max_length=5,  # SageMaker's limit per VPC config
        description="Security groups of the model containers' network interfaces (sg-...).",
    )

    @property
    def subnet_ids(self) -> list[str]:
        """The subnet ids, in stack-file order."""
        return [s.id for s in self.subnets]

    @property
    def availability_zones(self) -> set[str]:
        """The distinct zones the subnets cover."""
        return {s.availability_zone for s in self.subnets}


def network_problems(environment: Environment, region: str, network: NetworkSettings | None) -> list[str]:
    """Rules of `mlops:network` that need the environment and region; each problem names its key."""
    if network is None:
        if environment.is_production_like:
            return [
                f"mlops:network: {environment.value} serves models inside a VPC; set subnets (id and "
                "availabilityZone of each private subnet) and securityGroupIds of the VPC to adopt"
            ]
        return []
    problems: list[str] = []
    seen: set[str] = set()
    for index, subnet in enumerate(network.subnets):
        key = f"mlops:network.subnets[{index}]"
        if subnet.id in seen:
            problems.append(f"{key}.id: '{subnet.id}' is listed twice")
        seen.add(subnet.id)
        if not subnet.availability_zone.startswith(region) or len(subnet.availability_zone) != len(region) + 1:
            problems.append(
                f"{key}.availabilityZone: '{subnet.availability_zone}' is not a zone of the stack's region {region}"
            )
    zones = network.availability_zones
    if environment is Environment.PROD and len(zones) < PROD_MIN_AVAILABILITY_ZONES:
        problems.append(
            f"mlops:network.subnets: prod needs subnets in at least {PROD_MIN_AVAILABILITY_ZONES} availability "
            f"zones so its endpoint instances survive the loss of one; found {len(zones)} "
            f"({', '.join(sorted(zones))}); add a private subnet in another zone"
        )
    return problems
