"""Serve one trained model three ways on 127.0.0.1 and drive each with the same load.

  fast      model_code.server: uvicorn (uvloop, httptools) + Starlette + orjson + the compiled predict path
  flask     benchmarks/_serve_flask.py behind gunicorn (sync workers), the usual tutorial setup
  inproc    Predictor.handle(body) in a loop in this process: no HTTP at all, the limit

Cases: concurrency 1 and 16 x payloads of 1 and 100 CSV rows. Both servers get the same worker count and
OMP_NUM_THREADS=1. The load generator (benchmarks/_serve_load.py, asyncio + raw keep-alive sockets) runs in
this process and competes with the servers for the machine's cores, equally for both.

    python benchmarks/serve_bench.py            # ~2 minutes: 2 interleaved rounds of 4 s per case
    python benchmarks/serve_bench.py --quick    # ~40 seconds: 1 round of 1.5 s
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _serve_load import LoadResult, build_request, run_load  # noqa: E402

from model_code.schema import FEATURE_NAMES  # noqa: E402

HOST = "127.0.0.1"
CONCURRENCY = (1, 16)
PAYLOAD_ROWS = (1, 100)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/ping", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server on {port} not ready after {timeout}s")


def payload(rows: int) -> bytes:
    from model_code.data import generate_transactions

    frame = generate_transactions(max(rows, 200), seed=3).loc[:, list(FEATURE_NAMES)].head(rows)
    return frame.to_csv(index=False, header=False).encode()


def ensure_model(model_dir: Path | None) -> Path:
    if model_dir is not None and (model_dir / "model.joblib").is_file():
        return model_dir
    default = ROOT / "build" / "model" / "extracted"
    if model_dir is None and (default / "model.joblib").is_file():
        return default
    out = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    print(f"no trained model found; training one into {out}", flush=True)
    subprocess.run([sys.executable, "-m", "model_code", "train-local", "--out", str(out)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return out / "extracted"


def start(kind: str, port: int, model_dir: Path, workers: int, flask_worker_class: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MODEL_DIR": str(model_dir), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    if kind == "fast":
        cmd = [sys.executable, "-m", "model_code", "serve", "--host", HOST, "--port", str(port),
               "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    else:
        cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", flask_worker_class, "-b", f"{HOST}:{port}",
               "--chdir", str(ROOT / "benchmarks"), "--log-level", "warning", "_serve_flask:app"]  # fmt: skip
    return subprocess.Popen(cmd, env=env, cwd=ROOT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def inprocess(model_dir: Path, body: bytes, duration: float) -> LoadResult:
    from threadpoolctl import threadpool_limits

    from model_code.predictor import CSV, Predictor

    threadpool_limits(1)
    predictor = Predictor.from_dir(model_dir)
    for _ in range(50):
        predictor.handle(body, CSV, CSV)
    result = LoadResult()
    started = time.perf_counter()
    while (now := time.perf_counter()) - started < duration and len(result.latencies) < 1_000_000:
        predictor.handle(body, CSV, CSV)
        result.latencies.append(time.perf_counter() - now)
    result.elapsed = time.perf_counter() - started
    return result


def _merge(results: dict[tuple[str, int, int], LoadResult], key: tuple[str, int, int], new: LoadResult) -> None:
    old = results.setdefault(key, LoadResult())
    old.latencies += new.latencies
    old.errors += new.errors
    old.elapsed += new.elapsed


def fmt(name: str, conc: int, rows: int, r: LoadResult) -> str:
    return (
        f"{name:<7} c={conc:<3} rows={rows:<4} {r.rps:9.0f} req/s {r.rps * rows:10.0f} rows/s "
        f"p50 {r.percentile(50) * 1e3:7.3f} ms  p99 {r.percentile(99) * 1e3:7.3f} ms  "
        f"n={len(r.latencies)} errors={r.errors}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of 1.5 s per case instead of two of 4 s")
    parser.add_argument("--rounds", type=int, default=None, help="measurements per case, alternating order")
    parser.add_argument("--duration", type=float, default=None, help="seconds per case")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--model-dir", type=Path, default=None, help="default: build/model/extracted")
    parser.add_argument("--flask-worker-class", default="sync", help="gunicorn -k for the baseline")
    args = parser.parse_args()
    duration = args.duration or (1.5 if args.quick else 4.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    model_dir = ensure_model(args.model_dir)
    bodies = {rows: payload(rows) for rows in PAYLOAD_ROWS}
    print(
        f"model {model_dir}, {args.workers} workers per server, {args.rounds} x {duration}s per case, "
        f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}"
    )

    # Both servers stay up and the cases interleave (fast, flask, in-process, then again in the other
    # order), so a burst of other load on the machine hits every contender alike.
    results: dict[tuple[str, int, int], LoadResult] = {}
    ports = {kind: free_port() for kind in ("fast", "flask")}
    procs = {kind: start(kind, port, model_dir, args.workers, args.flask_worker_class) for kind, port in ports.items()}
    try:
        for kind, proc in procs.items():
            wait_ready(ports[kind], proc)
        for rows, body in bodies.items():
            for conc in CONCURRENCY:
                for round_ in range(args.rounds):
                    order = ("fast", "flask", "inproc") if round_ % 2 == 0 else ("inproc", "flask", "fast")
                    for kind in order:
                        if kind == "inproc":
                            if conc == CONCURRENCY[0]:
                                _merge(results, ("inproc", 1, rows), inprocess(model_dir, body, duration))
                            continue
                        request = build_request(HOST, ports[kind], "/invocations", body, "text/csv", "text/csv")
                        run_load(HOST, ports[kind], request, conc, min(0.5, duration / 3))  # warm up
                        _merge(results, (kind, conc, rows), run_load(HOST, ports[kind], request, conc, duration))
                for kind in ("fast", "flask"):
                    print(fmt(kind, conc, rows, results[(kind, conc, rows)]), flush=True)
            print(fmt("inproc", 1, rows, results[("inproc", 1, rows)]), flush=True)
    finally:
        for proc in procs.values():
            stop(proc)

    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes share these cores too)")
    print("\nratios (fast / flask throughput, flask p99 / fast p99, fast / in-process throughput per core):")
    for rows in PAYLOAD_ROWS:
        for conc in CONCURRENCY:
            fast, flask = results[("fast", conc, rows)], results[("flask", conc, rows)]
            limit = results[("inproc", 1, rows)].rps * (1 if conc == 1 else min(args.workers, os.cpu_count() or 1))
            print(
                f"c={conc:<3} rows={rows:<4} throughput x{fast.rps / max(flask.rps, 1e-9):5.2f}   "
                f"p99 x{flask.percentile(99) / fast.percentile(99):5.2f} lower   "
                f"fast = {fast.rps / limit:6.1%} of in-process ({limit:.0f} req/s)"
            )


if __name__ == "__main__":
    main()
