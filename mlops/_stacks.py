"""Loading a stack's validated settings for the commands that act on deployed stacks (promote, smoke, registry)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .plan import StackConfig, StackFileError, read_stack_config, stack_names
from .settings import Environment, ModelSettings, SettingsError, StackSettings, load_settings


class StackLoadError(Exception):
    """A stack cannot be used: no file, bad YAML, or invalid settings. The message is the one `mlops plan` gives."""


@dataclass(frozen=True)
class LoadedStack:
    """A stack file and its validated settings."""

    config: StackConfig
    settings: StackSettings

    @property
    def name(self) -> str:
        """The stack name."""
        return self.settings.stack

    @property
    def path(self) -> Path:
        """The stack file."""
        assert self.config.stack_file is not None  # read_stack_config always records the file it read
        return self.config.stack_file

    @property
    def stage(self) -> int:
        """Position of the stack's environment in the promotion order (dev 0, staging 1, prod 2)."""
        return stage_of(self.settings.environment)

    def model(self, name: str) -> ModelSettings | None:
        """The stack's model of that name, if it declares one."""
        return next((m for m in self.settings.models if m.name == name), None)

    def model_index(self, name: str) -> int:
        """Position of a declared model in `mlops:models` (for messages naming the config key)."""
        return next(i for i, m in enumerate(self.settings.models) if m.name == name)


def stage_of(environment: Environment) -> int:
    """Promotion order: dev -> staging -> prod, as declared by the Environment enum."""
    return list(Environment).index(environment)


def load_stack(project_dir: Path, stack: str, path: Path | None = None) -> LoadedStack:
    """Read and validate one stack exactly as `mlops plan` does (same errors, naming file and config keys)."""
    try:
        config = read_stack_config(project_dir, stack, path)
        return LoadedStack(config, load_settings(config.project, config.stack, config.config))
    except (StackFileError, SettingsError) as exc:
        raise StackLoadError(str(exc)) from None


def existing_stacks(project_dir: Path) -> list[str]:
    """Names of the stacks that have a stack file."""
    try:
        return stack_names(project_dir)
    except StackFileError as exc:
        raise StackLoadError(str(exc)) from None
