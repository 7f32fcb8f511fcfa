"""Facts about SageMaker the SageMaker rules share."""

from __future__ import annotations

import re
from typing import Any

# Instance types with local NVMe instance storage. SageMaker encrypts that storage with a hardware module and
# refuses a KMS volume key for them (CreateEndpointConfig KmsKeyId, ResourceConfig.VolumeKmsKeyId), so the
# KMS rules exempt them. Families with a "d" after the generation (m5d, g4dn, p4d, ...) plus the GPU and
# Trainium families that always carry NVMe storage.
_STORAGE_FAMILY = re.compile(r"^ml\.[a-z]+\d+[a-z]*d[a-z]*\.")
_ALWAYS_NVME = ("g5", "g6", "g6e", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2")


def has_instance_storage(instance_type: Any) -> bool:
    """Whether SageMaker rejects a KMS volume key for this instance type (it has local NVMe storage)."""
    if not isinstance(instance_type, str):
        return False
    family = instance_type.split(".")[1] if instance_type.count(".") >= 2 else ""
    return bool(_STORAGE_FAMILY.match(instance_type)) or family in _ALWAYS_NVME
