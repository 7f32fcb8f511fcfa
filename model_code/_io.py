"""Small file helpers shared by the job entry points (preprocess, train, evaluate)."""

from __future__ import annotations

import gzip
import os
import tarfile
from pathlib import Path

import pandas as pd

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def env_path(*names: str, default: str) -> Path:
    """The first of the environment variables `names` that is set, else `default`."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return Path(value)
    return Path(default)


def table_files(root: Path) -> list[Path]:
    """CSV/Parquet files under `root` (a file or a directory, searched recursively), in a stable order."""
    if root.is_file():
        return [root]
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no .csv or .parquet files under {root}")
    return files


def read_tables(root: Path) -> pd.DataFrame:
    """Read and concatenate every table under `root`."""
    frames = [
        pd.read_csv(f, low_memory=False) if f.suffix.lower() == ".csv" else pd.read_parquet(f)
        for f in table_files(root)
    ]
    return pd.concat(frames, ignore_index=True)


def make_tarball(src_dir: Path, target: Path) -> Path:
    """Tar+gzip the files of `src_dir` at the archive root, as SageMaker expects of `model.tar.gz`.

    Entries are sorted and their owner and times zeroed so the same model gives the same bytes.
    """
    target.parent.mkdir(parents=True, exist_ok=True)

    def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with (
        open(target, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in sorted(p for p in src_dir.rglob("*") if p.is_file()):
            tar.add(path, arcname=path.relative_to(src_dir).as_posix(), filter=_normalise)
    return target


def extract_tarball(tarball: Path, dest: Path) -> Path:
    """Extract `tarball` into `dest`, refusing links and paths that escape it."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as tar:
        tar.extractall(dest, filter="data")
    return dest
