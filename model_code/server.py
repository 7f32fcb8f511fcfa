"""Inference server for SageMaker endpoints and Kubernetes: uvicorn + Starlette + orjson.

Routes (port 8080 unless SAGEMAKER_BIND_TO_PORT / PORT / --port say otherwise):
  GET  /ping         200 once this worker's model is loaded, else 503 (SageMaker health check)
  GET  /ready        same as /ping (Kubernetes readiness probe)
  GET  /live         200 while the process serves HTTP, model or not (Kubernetes liveness probe)
  POST /invocations  text/csv or application/json in; the Accept type out (default: the request's type)
  GET  /metrics      Prometheus text format
  GET  /execution-parameters   what SageMaker batch transform should send (concurrency, payload size)

Environment:
  MODEL_DIR, else SM_MODEL_DIR, else /opt/ml/model   the extracted model.tar.gz
  SAGEMAKER_MODEL_SERVER_WORKERS, else MODEL_SERVER_WORKERS, else the CPU count   worker processes
  MODEL_SERVER_MAX_BODY_BYTES (6291456 = SageMaker's 6 MiB payload limit)          larger bodies get 413
  MODEL_SERVER_THREADS (1)        BLAS/OpenMP threads per worker; workers already use every core
  MODEL_SERVER_ACCESS_LOG (0)     1 to log every request
  PROMETHEUS_MULTIPROC_DIR        with several workers, where their metrics meet (a fresh temp dir if unset)

Each worker loads the model once, at startup. If that fails the worker logs one ERROR line saying why,
keeps serving /live and /metrics, and answers /ping, /ready and /invocations with 503, so an orchestrator
sees an unhealthy container instead of a crash loop hiding the reason.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from anyio import to_thread
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from model_code.predictor import CSV, JSON, SUPPORTED_TYPES, InputError, ModelLoadError, Predictor

log = logging.getLogger("model_code.server")

DEFAULT_PORT = 8080
DEFAULT_MAX_BODY = 6 * 1024 * 1024
THREAD_OFFLOAD_BYTES = 256 * 1024
"""Bodies at least this big are scored in a worker thread so /ping stays responsive meanwhile."""
ROUTES = ("/ping", "/ready", "/live", "/invocations", "/metrics", "/execution-parameters")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

# Metric objects are created at import, in each worker; with PROMETHEUS_MULTIPROC_DIR set (see `main`)
# prometheus_client stores their values in per-process files that /metrics adds up.
REQUESTS = Counter("inference_requests", "HTTP requests by route and status code", ["path", "status"])
LATENCY = Histogram(
    "inference_request_duration_seconds",
    "Time from request start to the end of the response, by route",
    ["path"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
ERRORS = Counter("inference_errors", "Requests refused or failed, by kind", ["kind"])
ROWS = Counter("inference_rows", "Rows scored")
MODEL_INFO = Gauge("model_info", "1 for the model version loaded", ["model_version"], multiprocess_mode="max")
MODEL_LOADED = Gauge("model_loaded", "1 if the model loaded (min over workers)", multiprocess_mode="min")


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


def _error(exc: InputError) -> Response:
    ERRORS.labels(exc.kind).inc()
    # After a 413 the unread body may still be in flight: close the connection rather than parse it.
    headers = {"connection": "close"} if exc.status == 413 else None
    return _json(exc.body(), exc.status, headers)


def _media_type(header: str) -> tuple[str, str]:
    media, _, params = header.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


def negotiate(content_type: str, accept: str) -> str:
    """The response type for an Accept header; missing or */* answers in the request's own type."""
    if not accept.strip():
        return content_type
    ranges: list[tuple[float, int, str]] = []
    for i, item in enumerate(accept.split(",")):
        media, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((-q, i, media.strip().lower()))
    for neg_q, _, media in sorted(ranges):
        if neg_q >= 0:
            break
        if media in ("*/*", "*"):
            return content_type
        if media in SUPPORTED_TYPES:
            return media
        if media == "text/*":
            return CSV
        if media == "application/*":
            return JSON
    raise InputError(
        "not_acceptable", f"cannot answer Accept: {accept[:100]!r}; use {' or '.join(SUPPORTED_TYPES)}", 406
    )


class ModelState:
    """This worker's model, or the reason it has none."""

    def __init__(self) -> None:
        self.predictor: Predictor | None = None
        self.error = "model not loaded yet"
        self.max_body = DEFAULT_MAX_BODY

    def load(self, model_dir: Path) -> None:
        started = time.perf_counter()
        try:
            self.predictor = Predictor.from_dir(model_dir)
        except ModelLoadError as exc:
            self.predictor, self.error = None, str(exc)
            MODEL_LOADED.set(0)
            log.error("MODEL NOT LOADED, /ping will answer 503: %s", exc)
            return
        MODEL_LOADED.set(1)
        MODEL_INFO.labels(self.predictor.version).set(1)
        log.info(
            "model %s loaded from %s in %.2fs (threshold %.4f)",
            self.predictor.version,
            model_dir,
            time.perf_counter() - started,
            self.predictor.threshold,
        )


def model_dir_from_env() -> Path:
    for name in ("MODEL_DIR", "SM_MODEL_DIR"):
        if os.environ.get(name):
            return Path(os.environ[name])
    return Path("/opt/ml/model")


def create_app(model_dir: Path | None = None) -> ASGIApp:
    """The ASGI app; the model is loaded in the lifespan startup of each worker."""
    state = ModelState()

    async def health(request: Request) -> Response:
        if state.predictor is None:
            return _json({"status": "unavailable", "reason": state.error}, 503)
        return _json({"status": "ok", "model_version": state.predictor.version})

    async def live(request: Request) -> Response:
        return _json({"status": "alive"})

    async def execution_parameters(request: Request) -> Response:
        # SageMaker batch transform asks this once to size its requests to us.
        return _json(
            {
                "MaxConcurrentTransforms": default_workers(),
                "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": max(1, state.max_body // (1024 * 1024)),
            }
        )

    async def metrics(request: Request) -> Response:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def invocations(request: Request) -> Response:
        try:
            predictor = state.predictor
            if predictor is None:
                raise InputError("model_unavailable", f"model not loaded: {state.error}", 503)
            content_type, charset = _media_type(request.headers.get("content-type", ""))
            if content_type not in SUPPORTED_TYPES or charset not in ("", "utf-8", "utf8", "us-ascii"):
                raise InputError(
                    "unsupported_media_type",
                    f"Content-Type {request.headers.get('content-type', '')[:100]!r} is not supported; "
                    f"send {' or '.join(SUPPORTED_TYPES)} (UTF-8)",
                    415,
                )
            accept = negotiate(content_type, request.headers.get("accept", ""))
            body = await _read_body(request, state.max_body)
            if not body.strip():
                raise InputError("empty_body", "request body is empty")
            if len(body) >= THREAD_OFFLOAD_BYTES:
                prediction = await to_thread.run_sync(predictor.predict_body, body, content_type)
            else:
                prediction = predictor.predict_body(body, content_type)
            ROWS.inc(len(prediction.probabilities))
            return Response(predictor.encode(prediction, accept), media_type=accept)
        except InputError as exc:
            return _error(exc)
        except Exception:
            log.exception("prediction failed")
            return _error(InputError("internal_error", "prediction failed; see the server log", 500))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        kind = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
        return _error(InputError(kind, f"{request.method} {request.url.path}: {kind.replace('_', ' ')}", status))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from threadpoolctl import threadpool_limits

        _configure_logging(os.environ.get("LOG_LEVEL", "info"))
        threadpool_limits(int(os.environ.get("MODEL_SERVER_THREADS", "1")))
        state.max_body = int(os.environ.get("MODEL_SERVER_MAX_BODY_BYTES", DEFAULT_MAX_BODY))
        state.load(model_dir or model_dir_from_env())
        yield

    starlette = Starlette(
        routes=[
            Route("/ping", health, methods=["GET"]),
            Route("/ready", health, methods=["GET"]),
            Route("/live", live, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/execution-parameters", execution_parameters, methods=["GET"]),
            Route("/invocations", invocations, methods=["POST"]),
        ],
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )
    return MetricsMiddleware(starlette)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise InputError("body_too_large", f"body of {declared} bytes exceeds the {limit}-byte limit", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputError("body_too_large", f"body exceeds the {limit}-byte limit", 413)
        chunks.append(chunk)
    return b"".join(chunks)


class MetricsMiddleware:
    """Counts every HTTP request by route and status and times it (pure ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._latency = {path: LATENCY.labels(path) for path in (*ROUTES, "other")}

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"] if scope["path"] in ROUTES else "other"
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            REQUESTS.labels(path, str(status)).inc()
            self._latency[path].observe(time.perf_counter() - started)


app = create_app()


# ---------------------------------------------------------------------------------------------- process


def default_workers() -> int:
    for name in ("SAGEMAKER_MODEL_SERVER_WORKERS", "MODEL_SERVER_WORKERS"):
        value = os.environ.get(name, "").strip()
        if value:
            return max(1, int(value))
    return max(1, os.cpu_count() or 1)


def _prepare_multiprocess_metrics() -> None:
    """Point every worker at one empty metrics dir (stale files from a previous run would be added up)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        directory = tempfile.mkdtemp(prefix="prometheus-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    path = Path(directory)
    if path.exists():
        for child in path.iterdir():
            if child.is_file() and child.suffix == ".db":
                child.unlink()
            elif child.is_dir():
                shutil.rmtree(child)
    path.mkdir(parents=True, exist_ok=True)


def main(argv: Sequence[str] | None = None) -> None:
    """`serve` console script / `python -m model_code serve`: run uvicorn with N workers."""
    import uvicorn

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:  # `serve serve`, as SageMaker runs the image with the word `serve`
        argv = argv[1:]
    parser = argparse.ArgumentParser(prog="serve", description="Run the inference server.")
    parser.add_argument("--host", default=os.environ.get("MODEL_SERVER_HOST", "0.0.0.0"))
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("SAGEMAKER_BIND_TO_PORT") or os.environ.get("PORT") or DEFAULT_PORT),
    )
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="default: $MODEL_DIR, $SM_MODEL_DIR, /opt/ml/model"
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "info").lower())
    args = parser.parse_args(argv)

    if args.model_dir is not None:
        os.environ["MODEL_DIR"] = str(args.model_dir.resolve())
    # Workers are separate processes already: one OpenMP/BLAS thread each avoids oversubscribing cores.
    os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("MODEL_SERVER_THREADS", "1"))
    if args.workers > 1:
        _prepare_multiprocess_metrics()
    os.environ["LOG_LEVEL"] = args.log_level
    _configure_logging(args.log_level)
    log.info(
        "serving on %s:%d with %d worker(s), model dir %s, metrics %s",
        args.host,
        args.port,
        args.workers,
        model_dir_from_env(),
        "multiprocess" if args.workers > 1 else "per process",
    )
    uvicorn.run(
        "model_code.server:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop" if _has("uvloop") else "asyncio",
        http="httptools" if _has("httptools") else "h11",
        lifespan="on",
        access_log=os.environ.get("MODEL_SERVER_ACCESS_LOG", "0") == "1",
        log_level=args.log_level,
        timeout_keep_alive=75,  # longer than SageMaker's and typical load balancers' idle timeouts
        timeout_graceful_shutdown=20,
    )


def _configure_logging(level: str) -> None:
    """Once per process (workers are spawned, so they configure their own)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
