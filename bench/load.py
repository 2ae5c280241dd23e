"""Load test: many concurrent users of the app's ``ask`` endpoint, every answer checked.

    python bench/load.py [--clients 16] [--questions 25] [--url http://127.0.0.1:PORT]
                         [--concurrency 4] [--timeout 900] [--out bench/out]

Without ``--url`` it serves the real app (``ui.app.build_app`` over an Engine whose seed
collection is indexed into a temporary data folder) on a free loopback port, with the queue
settings of ``rag ui`` (``--concurrency`` answers at a time). It first asks every question of
``eval/seed_qa.json`` (with its history) once, one at a time, through the same endpoint: those
single-user answers are the reference. Then ``--clients`` threads, each with its own
``gradio_client.Client``, ask ``--questions`` questions each, drawn from the same cases, and
every answer is compared with the reference (answer text, refusal, citations and offsets,
scores). It reports errors, mismatches, throughput and latency percentiles, writes a Markdown
snippet to ``OUT/load.md`` and prints it. Loopback only; bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from index.offline import set_offline_environment

set_offline_environment()

ROOT = Path(__file__).resolve().parents[1]
SEED_QA = ROOT / "eval" / "seed_qa.json"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    history: tuple[tuple[str, str], ...]


@dataclass
class LoadResult:
    url: str
    clients: int
    per_client: int
    cases: int
    single_latencies: list[float]
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    asked: int = 0
    not_run: int = 0
    wall_s: float = 0.0

    @property
    def throughput(self) -> float:
        return self.asked / self.wall_s if self.wall_s else 0.0


def load_cases(path: Path = SEED_QA) -> list[Case]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Case(str(c["id"]), str(c["question"]),
                 tuple((str(q), str(a)) for q, a in c.get("history") or []))
            for c in data["cases"]]


def check_loopback(url: str) -> str:
    host = urlparse(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"refusing {url}: the load test only talks to loopback addresses")
    return url.rstrip("/")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _client(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False)


def _ask(client: Any, case: Case) -> dict[str, Any]:
    got = client.predict(case.question, "", [list(t) for t in case.history], api_name="/ask")
    if not isinstance(got, dict):
        raise TypeError(f"the endpoint returned {type(got).__name__}, not an answer")
    return got


def _diff(want: dict[str, Any], got: dict[str, Any]) -> str:
    keys = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    return "; ".join(f"{k}: {want.get(k)!r} != {got.get(k)!r}"[:300] for k in keys)


def run_load(url: str, clients: int = 16, per_client: int = 25, *, cases: list[Case] | None = None,
             seed: int = 0, timeout_s: float = 900.0) -> LoadResult:
    """Single-user reference answers first (sequentially), then ``clients`` threads asking
    ``per_client`` questions each; every answer is compared with the reference."""
    url = check_loopback(url)
    cases = cases if cases is not None else load_cases()
    deadline = time.monotonic() + timeout_s
    reference: dict[str, dict[str, Any]] = {}
    single: list[float] = []
    client = _client(url)
    result = LoadResult(url, clients, per_client, len(cases), single)
    for case in cases:
        started = time.perf_counter()
        try:
            reference[case.id] = _ask(client, case)
        except Exception as exc:  # an error for one user alone is an error too
            result.errors.append(f"single-user {case.id}: {type(exc).__name__}: {exc}")
        single.append(time.perf_counter() - started)
    rng = random.Random(seed)
    plans = [[rng.choice(cases) for _ in range(per_client)] for _ in range(clients)]
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1, timeout=300)

    def user(n: int) -> None:
        try:
            mine = _client(url)
        except Exception as exc:
            with lock:
                result.errors.append(f"client {n}: cannot connect: {type(exc).__name__}: {exc}")
            mine = None
        ready.wait()
        for i, case in enumerate(plans[n]):
            if mine is None or time.monotonic() > deadline:
                with lock:
                    result.not_run += len(plans[n]) - i
                return
            started = time.perf_counter()
            try:
                got: dict[str, Any] | None = _ask(mine, case)
                error = None
            except Exception as exc:
                got, error = None, f"client {n} {case.id}: {type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - started
            with lock:
                result.asked += 1
                result.latencies.append(elapsed)
                if error is not None:
                    result.errors.append(error)
                elif case.id in reference and got != reference[case.id]:
                    assert got is not None
                    result.mismatches.append(
                        f"client {n} {case.id}: {_diff(reference[case.id], got)}")

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    started = time.perf_counter()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + 60))
    result.wall_s = time.perf_counter() - started
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        result.errors.append(f"{stuck} clients still waiting for an answer at the time limit")
    return result


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(engine: Any, concurrency: int = 4) -> Iterator[str]:
    """The real app over ``engine`` on a free loopback port, queued like ``rag ui``."""
    from ui.app import build_app

    demo = build_app(engine, stream_delay=0.0)
    demo.queue(default_concurrency_limit=concurrency)
    for attempt in range(3):
        try:
            _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(),
                                    prevent_thread_lock=True, quiet=True, ssr_mode=False,
                                    show_error=False)
            break
        except OSError:
            if attempt == 2:
                raise
    try:
        yield check_loopback(url)
    finally:
        demo.close(verbose=False)


@contextmanager
def seed_engine(data_dir: Path | None = None) -> Iterator[Any]:
    """An Engine whose seed collection is indexed (in a temporary data folder by default)."""
    from rag.pipeline import Engine
    from rag.settings import Settings

    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        engine = Engine(Settings(data_dir=data_dir or Path(tmp)))
        engine.index([ROOT / "seeds"], "seed", base=ROOT)
        yield engine


def markdown(result: LoadResult, concurrency: int | None) -> str:
    ms = [x * 1000 for x in result.latencies]
    single = [x * 1000 for x in result.single_latencies]
    served = f"{concurrency} at a time" if concurrency else "as configured by the server"
    lines = [
        f"### Load test: {result.clients} clients × {result.per_client} questions through "
        f"`/ask` ({served})",
        "",
        "| clients | questions | errors | mismatches | throughput q/s | p50 ms | p95 ms | "
        "single-user p50 ms | single-user p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {result.clients} | {result.asked} | {len(result.errors)} | "
        f"{len(result.mismatches)} | {result.throughput:.2f} | {percentile(ms, 0.5):.0f} | "
        f"{percentile(ms, 0.95):.0f} | {percentile(single, 0.5):.0f} | "
        f"{percentile(single, 0.95):.0f} |",
        "",
        f"Reference: the {result.cases} cases of eval/seed_qa.json (with their history), each "
        f"asked once by a single user first ({sum(result.single_latencies):.1f} s in all, "
        f"{len(result.single_latencies) / max(sum(result.single_latencies), 1e-9):.2f} q/s); "
        f"every concurrent answer compared with it exactly. Wall time {result.wall_s:.1f} s on "
        f"{os.cpu_count()} CPU cores, server and clients on the same machine (loopback).",
    ]
    if result.not_run:
        lines.append(f"\n{result.not_run} questions not asked: the time limit was reached.")
    for title, items in (("Errors", result.errors), ("Mismatches", result.mismatches)):
        if items:
            lines += ["", f"{title} (first 10 of {len(items)}):", ""]
            lines += [f"- {x}" for x in items[:10]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (loopback); default: start one")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--questions", type=int, default=25, help="questions per client")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="answers at a time in the started app (rag ui uses 4)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds, in all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args(argv)
    if args.url:
        result = run_load(args.url, args.clients, args.questions, seed=args.seed,
                          timeout_s=args.timeout)
        text = markdown(result, None)
    else:
        with seed_engine() as engine, serve(engine, args.concurrency) as url:
            result = run_load(url, args.clients, args.questions, seed=args.seed,
                              timeout_s=args.timeout)
        text = markdown(result, args.concurrency)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if not result.errors and not result.mismatches and not result.not_run else 1


if __name__ == "__main__":
    sys.exit(main())
