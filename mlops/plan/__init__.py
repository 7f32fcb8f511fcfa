"""The offline plan: run the Pulumi program under a recording mock monitor and render what it declares."""

from ._recorder import SECRET_SHOWN_AS, RecordedResource, RecordingMonitor
from ._run import Plan, PlanError, plan_config, program_path, run_plan, run_program
from ._stackfile import StackConfig, StackFileError, read_stack_config, stack_file_path, stack_names

__all__ = [
    "SECRET_SHOWN_AS",
    "Plan",
    "PlanError",
    "RecordedResource",
    "RecordingMonitor",
    "StackConfig",
    "StackFileError",
    "plan_config",
    "program_path",
    "read_stack_config",
    "run_plan",
    "run_program",
    "stack_file_path",
    "stack_names",
]
