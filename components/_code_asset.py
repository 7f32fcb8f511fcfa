"""The model code a pipeline runs: its files and their content hash, the key of the upload (pure, table-tested)."""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE = "model_code"
# What a SageMaker job imports; data, Dockerfile and caches stay out of the upload.
_SUFFIXES = (".py",)


class CodeDirectoryError(ValueError):
    """The directory given as model code is not a runnable `model_code` package."""


def code_files(code_dir: Path) -> dict[str, Path]:
    """The package's source files keyed by their path in the upload (`model_code/train.py`), sorted."""
    if not (code_dir / "__init__.py").is_file() or not (code_dir / "__main__.py").is_file():
        raise CodeDirectoryError(
            f"{code_dir}: not a runnable package (needs __init__.py and __main__.py, so SageMaker jobs can run "
            f"`python -m {PACKAGE} <job>`)"
        )
    found = {
        f"{PACKAGE}/{path.relative_to(code_dir).as_posix()}": path
        for path in code_dir.rglob("*")
        if path.is_file() and path.suffix in _SUFFIXES and "__pycache__" not in path.parts
    }
    return dict(sorted(found.items()))


def code_sha256(files: dict[str, Path]) -> str:
    """SHA-256 over every file's upload path and bytes: changes when any file is added, removed, renamed or
    edited, and only then (timestamps and the checkout location do not count)."""
    digest = hashlib.sha256()
    for key, path in sorted(files.items()):
        digest.update(key.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
