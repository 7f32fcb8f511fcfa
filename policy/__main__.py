"""Entry point of the policy pack: `pulumi preview --policy-pack policy` runs this file.

The Python policy analyzer runs `python -m pulumi.policy <engine> .` inside this directory, which executes this
file as `__main__` (runpy). Only then is the `PolicyPack` built; constructing it starts the gRPC analyzer and
never returns. Importing the `policy` package (as `mlops check` and the tests do) starts nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from pulumi_policy import EnforcementLevel, PolicyPack

PACK_DIR = Path(__file__).resolve().parent


def load_rules_package() -> ModuleType:
    """The rules package in this directory, imported as `policy` whatever the directory is called.

    The analyzer puts only this directory on sys.path, and a published pack is unpacked under a directory with
    another name, so the package is loaded from its files rather than looked up by name.
    """
    loaded = sys.modules.get("policy")
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve().parent == PACK_DIR:
        return loaded
    spec = importlib.util.spec_from_file_location(
        "policy", PACK_DIR / "__init__.py", submodule_search_locations=[str(PACK_DIR)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the policy package from {PACK_DIR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["policy"] = module
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    package = load_rules_package()
    # The stack's mlops:environment arrives in PULUMI_CONFIG; each rule takes its level for that environment.
    environment = package.startup_environment()
    PolicyPack(
        name=package.PACK_NAME,
        policies=package.policies_for(environment),
        enforcement_level=EnforcementLevel.MANDATORY,
        description=package.pack.DESCRIPTION,
    )
