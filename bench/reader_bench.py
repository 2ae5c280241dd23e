"""Warm ``ask()`` latency with the reader beside the standard precision pipeline, and cold start.

    python bench/reader_bench.py [--chunks 100000] [--queries 60] [--out bench/out]

The standard precision pipeline: LangChain ``Chroma.similarity_search(q, k=20)`` on the same
chunk collection with the same embedding model, the 20 chunks re-ranked by a cross-encoder of
the same size (our reader's own ONNX weights reading question and whole chunk, up to 320 word
pieces), top 4 kept. Plain ``similarity_search(k=4)`` is timed too, for reference. The three
are timed alternately, question by question, in one process, after a warm-up; figures are
medians and ratios from the same run.

Collections: the seed article, and one of about ``--chunks`` chunks built from the texts in
../shared/data replicated until the size is reached, through the normal indexing pipeline with
the embedding cached by text (see ``bench/ask_bench.py``). Cold start: a new process that
imports, loads the embedder and the reader, and answers one seed question (3 runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from ask_bench import build_big, cold_start, pct, stock_chroma
from scale_corpus import ReplicaEmbedder, questions

from rag.pipeline import Engine
from rag.reader import Passage
from rag.settings import Settings

RERANK_PIECES = 320
BEGIN, END = "<!-- reader:begin (written by bench/reader_bench.py) -->", "<!-- reader:end -->"


def pipelines(engine: Engine, collection: str) -> dict[str, Callable[[str], Any]]:
    stock = stock_chroma(engine, collection)
    reader = engine.reader
    assert reader is not None

    def rerank(q: str) -> Any:
        docs = stock.similarity_search(q, k=20)
        probs = reader.probabilities(q, [Passage(d.page_content, "") for d in docs],
                                     max_pieces=RERANK_PIECES)
        order = sorted(range(len(docs)), key=lambda i: -float(probs[i]))
        return [docs[i] for i in order[:4]]

    return {"ours": lambda q: engine.ask(q, collection=collection),
            "rerank": rerank,
            "k4": lambda q: stock.similarity_search(q, k=4)}


def time_all(engine: Engine, collection: str, qs: list[str]) -> dict[str, list[float]]:
    calls = pipelines(engine, collection)
    for q in qs[:5]:
        for call in calls.values():
            call(q)
    times: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for i, q in enumerate(qs):
        for name in names[i % len(names):] + names[:i % len(names)]:
            t = time.perf_counter()
            calls[name](q)
            times[name].append(time.perf_counter() - t)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--results", type=Path, default=Path("bench/RESULTS.md"))
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the big collection here once and reuse it on later runs")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    qs = questions(n=args.queries)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        big = args.keep or Path(tmp) / "big-data"
        n = 0
        if args.chunks:
            builder = Engine(Settings(data_dir=big, reader=False), embedder=ReplicaEmbedder())
            if "bench-big" in builder.collections():
                n = builder.store("bench-big").count()
            if n < args.chunks:
                n, seconds = build_big(builder, big / "docs", args.chunks)
                print(f"  built {n:,} chunks in {seconds:.0f} s", file=sys.stderr)
            if args.build_only:
                return 0
        engine = Engine(Settings(data_dir=Path(tmp) / "data"), embedder=ReplicaEmbedder())
        engine.index([Path("seeds")], "seed")
        colds = [cold_start(Path(tmp) / "data") for _ in range(3)]
        seed_qs = [c["question"] for c in json.loads(
            Path("eval/seed_qa.json").read_text(encoding="utf-8"))["cases"]]
        rows.append(("seed", engine.store("seed").count(), time_all(engine, "seed", seed_qs)))
        if args.chunks:
            engine = Engine(Settings(data_dir=big), embedder=ReplicaEmbedder())
            engine.ask(qs[0], collection="bench-big")
            rows.append(("replicated shared data", n, time_all(engine, "bench-big", qs)))
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [BEGIN, "## Reader latency (`python bench/reader_bench.py`)", "",
             f"Run {date}, {os.cpu_count()} CPUs, {args.queries} questions per collection, "
             "alternating. *rerank*: similarity_search(k=20) + the reader's weights re-ranking "
             "the 20 chunks, top 4 (the standard precision pipeline); *k=4*: "
             "similarity_search(k=4).", "",
             "| collection | chunks | ask() p50 ms | ask() p95 ms | rerank p50 ms | "
             "k=4 p50 ms | ask / rerank (p50) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, n, t in rows:
        ratio = statistics.median(t["ours"]) / statistics.median(t["rerank"])
        lines.append(f"| {name} | {n:,} | {pct(t['ours'], 50):.1f} | {pct(t['ours'], 95):.1f} "
                     f"| {pct(t['rerank'], 50):.1f} | {pct(t['k4'], 50):.1f} | {ratio:.2f} |")
    lines += ["", "Cold start (new process to the first seed answer, reader included): "
              + ", ".join(f"{c:.2f} s" for c in colds), END]
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reader_bench.md").write_text(text + "\n", encoding="utf-8")
    old = args.results.read_text(encoding="utf-8") if args.results.exists() else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        head, sep, rest = old.partition("\n<!-- scale:begin")
        new = f"{head}\n{text}\n{sep}{rest}" if sep else f"{old}\n{text}\n"
    args.results.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
