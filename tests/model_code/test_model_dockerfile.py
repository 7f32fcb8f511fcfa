"""Static checks of model_code/Dockerfile (no Docker engine here: we cannot build it, so we read it)."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest

CONTEXT = Path(__file__).resolve().parents[2] / "model_code"
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|make|build-essential|cmake|python3?-dev|libc6?-dev|apt-get)\b")
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"sklearn": "scikit-learn", "prometheus_client": "prometheus-client"}


def instructions() -> list[tuple[str, str]]:
    text = (CONTEXT / "Dockerfile").read_text().replace("\\\n", " ")
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_multi_stage_with_a_non_root_final_user() -> None:
    assert sum(keyword == "FROM" for keyword, _ in instructions()) >= 2
    users = [rest for keyword, rest in final_stage() if keyword == "USER"]
    assert users, "the final stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid == "10001"


def test_no_build_tools_in_the_final_stage() -> None:
    for keyword, rest in final_stage():
        if keyword == "RUN":
            assert not BUILD_TOOLS.search(rest), rest


def test_exposes_8080_and_runs_serve_or_train_through_the_entrypoint() -> None:
    steps = dict(final_stage())
    assert steps["EXPOSE"] == "8080"
    assert json.loads(steps["ENTRYPOINT"]) == ["python", "-m", "model_code"]
    assert json.loads(steps["CMD"]) == ["serve"]


def test_every_copied_source_exists_in_the_build_context() -> None:
    for keyword, rest in instructions():
        if keyword == "COPY" and "--from=" not in rest:
            sources = [part for part in rest.split() if not part.startswith("--")][:-1]
            for source in sources:
                assert (CONTEXT / source).exists(), f"COPY {source}: not in {CONTEXT}"


def _third_party_imports() -> set[str]:
    names: set[str] = set()
    for path in CONTEXT.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "model_code"}


def test_requirements_cover_every_import_with_a_range() -> None:
    lines = [line.split("#")[0].strip() for line in (CONTEXT / "requirements.txt").read_text().splitlines()]
    pinned = {re.split(r"[<>=!~\[]", line)[0].lower(): line for line in lines if line}
    for name in _third_party_imports():
        distribution = DISTRIBUTIONS.get(name, name).lower()
        assert distribution in pinned, f"{name} is imported but not in requirements.txt"
    for line in pinned.values():
        assert ">=" in line and "<" in line, f"{line}: give a range"


@pytest.mark.parametrize("name", ["sample.csv", "requirements.txt", ".dockerignore"])
def test_context_files_exist(name: str) -> None:
    assert (CONTEXT / name).is_file()
