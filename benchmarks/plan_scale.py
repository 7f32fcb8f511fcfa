"""How the offline plan scales with the number of models in a stack.

Plans one stack (default prod: instance endpoints with blue/green, alarms and autoscaling, the heaviest
shape) with 1, 10 and 50 models, each in a fresh interpreter, exactly as `mlops plan` runs. Prints, for
each, the median wall time and CPU time (user + system of the child, which a busy machine disturbs less),
their ratio to the 1-model plan, and their ratio to the floor: a fresh interpreter that only imports pulumi,
pulumi_aws, the sagemaker workflow SDK and the program's modules (components, settings, plan machinery) and
plans nothing.

    python benchmarks/plan_scale.py                      # 3 rounds, ~1-2 minutes on 2 cores
    python benchmarks/plan_scale.py --repeat 1 --counts 1,10
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 10.0  # the 50-model plan should cost less than this many 1-model plans

# The SDKs a plan needs, sagemaker's workflow API included (components import it lazily, on first pipeline).
FLOOR = """
import os
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the SDK builds a boto3 client at import time
import pulumi, pulumi_aws
import sagemaker.mlops.workflow, sagemaker.train.model_trainer, sagemaker.serve.model_builder
import sagemaker.core.processing
import components, mlops.settings, mlops.plan
"""

PLAN = """
import json, sys, time
from pathlib import Path
start = time.perf_counter()
from mlops.plan import plan_config, read_stack_config
from mlops.plan import program_path
root, stack, models = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
plan = plan_config(read_stack_config(root, stack), program_path(root), {"mlops:models": models})
print(json.dumps({"resources": len(plan.resources), "in_process": time.perf_counter() - start}))
"""


def models(stack: str, count: int) -> str:
    """`count` copies of the stack's first model, each with its own name and pinned version."""
    sys.path.insert(0, str(ROOT))
    from mlops.plan import read_stack_config

    base = json.loads(read_stack_config(ROOT, stack).config["mlops:models"])[0]
    out = []
    for i in range(1, count + 1):
        model = {**base, "name": f"model-{i:03d}"}
        if "modelPackageArn" in base:
            region_account = base["modelPackageArn"].split(":model-package/")[0]
            model["modelPackageArn"] = f"{region_account}:model-package/mlops-dev-model-{i:03d}/1"
        out.append(model)
    return json.dumps(out)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(code: str, *args: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of a fresh interpreter running `code`, and what it printed."""
    cpu, start = _children_cpu(), time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if result.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{result.stderr}")
    return elapsed, cpu, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median is reported")
    parser.add_argument("--counts", default="1,10,50", help="model counts, comma-separated (first is the base)")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    payloads = {n: models(args.stack, n) for n in counts}

    floor: dict[str, list[float]] = {"wall": [], "cpu": []}
    runs: dict[int, dict[str, list[float]]] = {n: {"wall": [], "cpu": []} for n in counts}
    resources: dict[int, int] = {}
    for _ in range(args.repeat):  # interleaved, so drift in machine load hits every case alike
        wall, cpu, _out = timed(FLOOR)
        floor["wall"].append(wall)
        floor["cpu"].append(cpu)
        for n in counts:
            wall, cpu, out = timed(PLAN, str(ROOT), args.stack, payloads[n])
            runs[n]["wall"].append(wall)
            runs[n]["cpu"].append(cpu)
            resources[n] = json.loads(out.strip().splitlines()[-1])["resources"]
    report(args.stack, args.repeat, counts, resources, floor, runs)


def report(stack: str, repeat: int, counts: list[int], resources: dict[int, int],
           floor: dict[str, list[float]], runs: dict[int, dict[str, list[float]]]) -> None:
    med = statistics.median
    print(f"stack {stack}, median of {repeat} round(s), python {sys.version.split()[0]}, {len(counts)} cases")
    print(f"floor (fresh interpreter importing pulumi, pulumi_aws, sagemaker's workflow SDK and the program): "
          f"wall {med(floor['wall']):.2f} s, cpu {med(floor['cpu']):.2f} s")
    print(f"{'models':>6} {'resources':>9} | {'wall s':>6} {'x 1-model':>9} {'x floor':>7} | "
          f"{'cpu s':>6} {'x 1-model':>9} {'x floor':>7}")
    base = counts[0]
    for n in counts:
        cells = []
        for kind in ("wall", "cpu"):
            value = med(runs[n][kind])
            cells.append(f"{value:>6.2f} {value / med(runs[base][kind]):>9.2f} {value / med(floor[kind]):>7.2f}")
        print(f"{n:>6} {resources[n]:>9} | {cells[0]} | {cells[1]}")
    largest = counts[-1]
    for kind in ("wall", "cpu"):
        ratio = med(runs[largest][kind]) / med(runs[base][kind])
        verdict = "meets" if ratio < GOAL else "MISSES"
        print(f"{kind}: {largest}-model plan = {ratio:.2f} x the {base}-model plan; {verdict} the goal (< {GOAL:g}x)")


if __name__ == "__main__":
    main()
