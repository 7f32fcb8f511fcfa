"""A small HTTP/1.1 load generator for serve_bench.py: asyncio (uvloop when present) over raw sockets.

It reuses connections (keep-alive) and reconnects only when the server says `Connection: close` (as
gunicorn's sync workers do after every response); that reconnect is part of the measured latency because a
real client pays it too. Bounded: it stops at `duration` seconds or `max_requests`, whichever comes first,
and refuses any host but the loopback.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def build_request(host: str, port: int, path: str, body: bytes, content_type: str, accept: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\nAccept: {accept}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _client(host: str, port: int, request: bytes, deadline: float, budget: list[int], result: LoadResult) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while budget[0] > 0 and time.perf_counter() < deadline:
        budget[0] -= 1
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            at = lower.find(b"content-length:")
            length = int(lower[at + 15 : lower.find(b"\r\n", at)]) if at >= 0 else 0
            await reader.readexactly(length)
            if status != 200:
                result.errors += 1
                continue
            result.latencies.append(time.perf_counter() - started)
            if b"connection: close" in lower:
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            result.errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _run(
    host: str, port: int, request: bytes, concurrency: int, duration: float, max_requests: int
) -> LoadResult:
    result = LoadResult()
    budget = [max_requests]
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(_client(host, port, request, deadline, budget, result) for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


def run_load(
    host: str, port: int, request: bytes, concurrency: int, duration: float, max_requests: int = 1_000_000
) -> LoadResult:
    """Drive `request` at host:port from `concurrency` connections for `duration` seconds."""
    if host not in LOOPBACK:
        raise ValueError(f"the load generator only targets the loopback, not {host!r}")
    try:
        import uvloop

        return uvloop.run(_run(host, port, request, concurrency, duration, max_requests))
    except ImportError:
        return asyncio.run(_run(host, port, request, concurrency, duration, max_requests))
