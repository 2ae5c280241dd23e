"""Robustness benchmark: linear time on long input, and questions while an upload indexes.

    python bench/robust_bench.py [--sizes 100k,400k,2m] [--clients 4] [--idle-questions 10]
                                 [--upload-mb 2] [--out bench/out]

1. Linear time. Text with no sentence break ("word word ...", no period) of each size goes
   through the indexer's text steps: sentences, cutting to the model's input limit (the real
   model's tokenizer), chunking; HTML of 40k ``<p>`` and of 100k nested ``<div>`` through
   ``html_to_text``. Seconds per run and per MB (flat per MB: linear).
2. ``/ask`` while an upload indexes. The real app (``ui.app.build_app`` over an Engine with the
   seed indexed) on a loopback port; ``--clients`` threads, each with its own
   ``gradio_client.Client``, ask seed questions through ``/ask`` one after another. First while
   nothing else runs (idle), then while a ``--upload-mb`` MB text file is uploaded through the
   app's upload handler (``ChatApp.upload``, the function the Documents panel calls, in the
   server's process): the same clients ask until the upload is indexed. Latency percentiles of
   both phases, same run, same process.

Prints a Markdown snippet and writes it to ``OUT/robust.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import (  # noqa: E402
    Case,
    _ask,
    _client,
    load_cases,
    percentile,
    seed_engine,
    serve,
)

SIZES = {"100k": 100_000, "400k": 400_000, "2m": 2_000_000}


def no_breaks(size: int) -> str:
    """``size`` characters of words with no sentence break."""
    words = [f"word{i % 997}" for i in range(size // 6 + 1)]
    return " ".join(words)[:size].rstrip()


def text_steps(text: str, embedder: Any) -> float:
    """Seconds for sentences, cutting and chunking, as :meth:`Indexer._prepare` runs them."""
    from index.chunk import chunk_sentences, fit_sentences, tiktoken_counter
    from index.segment import split_sentences

    started = time.perf_counter()
    limit = embedder.max_pieces
    sentences = fit_sentences(split_sentences(text), text, limit, embedder.count_pieces)
    pieces = embedder.count_pieces_many([s.text for s in sentences])
    count = tiktoken_counter()
    tokens = [count(s.text) for s in sentences]
    chunk_sentences(sentences, text, 180, 30, tokens, pieces, limit)
    return time.perf_counter() - started


def linear_rows(sizes: list[str]) -> list[str]:
    from index.embed import Embedder
    from index.load import html_to_text

    embedder = Embedder()
    embedder.count_pieces("warm up")
    rows = ["| input | size | seconds | seconds per MB |", "|---|---|---|---|"]
    for name in sizes:
        text = no_breaks(SIZES[name])
        took = text_steps(text, embedder)
        rows.append(f"| text without sentence breaks | {len(text) / 1e6:.1f} MB | {took:.2f} "
                    f"| {took / (len(text) / 1e6):.2f} |")
    pages = {
        "HTML, 40k `<p>`": "<html><body>" + "".join(f"<p>Paragraph {i} text.</p>"
                                                   for i in range(40_000)) + "</body></html>",
        "HTML, 100k nested `<div>`": "<div>" * 100_000 + "deep" + "</div>" * 100_000,
    }
    for label, markup in pages.items():
        started = time.perf_counter()
        html_to_text(markup)
        took = time.perf_counter() - started
        rows.append(f"| {label} | {len(markup) / 1e6:.1f} MB | {took:.2f} | "
                    f"{took / (len(markup) / 1e6):.2f} |")
    return rows


def ask_loop(url: str, cases: list[Case], clients: int, stop: threading.Event,
             per_client: int | None) -> tuple[list[float], list[str]]:
    """``clients`` threads ask ``cases`` in turn until ``stop`` (or ``per_client`` each)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def user(n: int) -> None:
        client = _client(url)
        i = 0
        while not stop.is_set() and (per_client is None or i < per_client):
            case = cases[(n * 7 + i) % len(cases)]
            started = time.perf_counter()
            try:
                _ask(client, case)
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
            with lock:
                latencies.append(time.perf_counter() - started)
            i += 1

    threads = [threading.Thread(target=user, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def upload_rows(clients: int, idle_questions: int, upload_mb: float) -> list[str]:
    from ui.app import ChatApp

    cases = [c for c in load_cases() if not c.history]
    with seed_engine() as engine, serve(engine, concurrency=4) as url, \
            tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
        ask_loop(url, cases, clients, threading.Event(), 2)  # warm up every client path
        idle, idle_errors = ask_loop(url, cases, clients, threading.Event(), idle_questions)
        doc = Path(tmp) / "long.txt"
        doc.write_text(" ".join(f"Sentence {i} says the Kestrel bridge carries {i % 9000} cars "
                                "on a working day." for i in range(int(upload_mb * 1e6 / 60))))
        size = doc.stat().st_size
        stop = threading.Event()
        status: list[Any] = []
        timing: dict[str, float] = {}

        def upload() -> None:
            started = time.perf_counter()
            try:
                for step in ChatApp(engine, stream_delay=0).upload([str(doc)], "bench-upload"):
                    status[:] = [step[0]]
            finally:
                timing["upload"] = time.perf_counter() - started
                stop.set()

        uploader = threading.Thread(target=upload)
        uploader.start()
        busy, busy_errors = ask_loop(url, cases, clients, stop, None)
        uploader.join()
    ok = 'class="ok"' in str(status[0]) if status else False
    p95_idle, p95_busy = percentile(idle, 0.95), percentile(busy, 0.95)
    return [
        "| phase | questions | errors | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
        f"| idle | {len(idle)} | {len(idle_errors)} | {percentile(idle, 0.5) * 1e3:.0f} | "
        f"{p95_idle * 1e3:.0f} |",
        f"| while a {size / 1e6:.1f} MB upload indexes ({timing['upload']:.0f} s, "
        f"{'indexed' if ok else 'NOT indexed'}) | {len(busy)} | {len(busy_errors)} | "
        f"{percentile(busy, 0.5) * 1e3:.0f} | {p95_busy * 1e3:.0f} |",
        "",
        f"p95 while uploading / p95 idle: {p95_busy / p95_idle:.2f} (acceptance: at most 3)",
        *(f"- error: {e}" for e in sorted(set(idle_errors + busy_errors))[:5]),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100k,400k,2m")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--idle-questions", type=int, default=10, help="per client")
    p.add_argument("--upload-mb", type=float, default=2.0,
                   help="about this many MB of sentences (2 gives a 2.5 MB file)")
    p.add_argument("--skip-upload", action="store_true")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = p.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        p.error(f"unknown sizes {unknown}: use {', '.join(SIZES)}")
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [f"## Robustness (`python bench/robust_bench.py`), {stamp}", "",
             "### Linear time (text steps of indexing, HTML extraction)", ""]
    lines += linear_rows(sizes)
    if not args.skip_upload:
        lines += ["", f"### `/ask` while an upload indexes ({args.clients} clients, same run)",
                  ""]
        lines += upload_rows(args.clients, args.idle_questions, args.upload_mb)
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "robust.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
