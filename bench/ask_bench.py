"""Warm ``ask()`` latency beside a stock LangChain query, on the same collection, in one run.

    python bench/ask_bench.py [--chunks 100000] [--queries 100] [--out bench/out]

(``make bench`` runs ``bench/scale.py``, which measures the same comparison at 1k to 1M chunks,
each query side in its own process; this script keeps the seed-collection figures and the cold
start.)

Collections: the seed article, and one of about ``--chunks`` chunks built from the texts in
../shared/data (XQuAD and SQuAD 2.0 articles, HotpotQA paragraphs), replicated until the size is
reached. The replicas go through the normal indexing pipeline; only their embedding is cached by
text (a replica's sentences are the same text, so the same vectors), with a tiny random
perturbation per copy so the vector index holds no exact duplicates.

Baseline: ``langchain_chroma.Chroma(...).similarity_search(question, k=4)`` on the same chunk
collection with the same embedding model. Both are timed alternately, question by question,
after a warm-up. Cold start: a new process that imports, loads and answers one seed question.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np
from scale_corpus import ReplicaEmbedder, questions, source_texts

from rag.pipeline import Engine
from rag.settings import Settings


def build_big(engine: Engine, folder: Path, target: int) -> tuple[int, float]:
    """Replicas of the shared texts, indexed in one run of the normal pipeline."""
    docs = source_texts()
    started = time.perf_counter()

    def write(replica: int) -> None:
        sub = folder / f"r{replica:03d}"
        sub.mkdir(parents=True)
        for name, text in docs:
            (sub / f"{name}.txt").write_text(f"Copy {replica} of {name}.\n\n{text}",
                                             encoding="utf-8")

    write(0)
    per_replica = engine.index([folder], "bench-big").chunks
    replicas = -(-target // per_replica)
    for r in range(1, replicas):
        write(r)
    report = engine.index([folder], "bench-big", progress=True)
    print(f"  {replicas} replicas of {per_replica:,} chunks: {report.summary()}", file=sys.stderr)
    return per_replica + report.chunks, time.perf_counter() - started


def stock_chroma(engine: Engine, collection: str) -> Any:
    """LangChain's stock Chroma store over ``collection``, with the engine's embedding model."""
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

    class LCEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return engine.embedder.embed(texts).tolist()  # type: ignore[no-any-return]

        def embed_query(self, text: str) -> list[float]:
            return engine.embedder.embed([text])[0].tolist()  # type: ignore[no-any-return]

    return Chroma(client=engine.client, collection_name=collection,
                  embedding_function=LCEmbeddings())


def time_pair(engine: Engine, collection: str, qs: list[str]) -> tuple[list[float], list[float]]:
    stock = stock_chroma(engine, collection)
    for q in qs[:5]:  # warm both
        engine.ask(q, collection=collection)
        stock.similarity_search(q, k=4)
    ours, base = [], []
    for q in qs:
        t = time.perf_counter()
        stock.similarity_search(q, k=4)
        base.append(time.perf_counter() - t)
        t = time.perf_counter()
        engine.ask(q, collection=collection)
        ours.append(time.perf_counter() - t)
    return ours, base


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, q))


def cold_start(data_dir: Path) -> float:
    """Seconds from starting a new Python process to reading its first answer (the process's
    exit, which tears torch down, is not counted)."""
    code = ("from rag import ask, Settings; "
            "a = ask('How many Azerbaijanis became victims?', "
            f"settings=Settings(data_dir={str(data_dir)!r})); print(a.text, flush=True)")
    t = time.perf_counter()
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                          stderr=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        wall = time.perf_counter() - t
        proc.wait()
    assert "282" in line, line
    print(f"  cold start: {wall:.2f} s to the first answer", file=sys.stderr)
    return wall


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    qs = questions(n=args.queries)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Settings(data_dir=Path(tmp) / "data"), embedder=ReplicaEmbedder())
        engine.index([Path("seeds")], "seed")
        colds = [cold_start(Path(tmp) / "data") for _ in range(3)]
        seed_qs = [c["question"] for c in json.loads(
            Path("eval/seed_qa.json").read_text(encoding="utf-8"))["cases"]]
        ours, base = time_pair(engine, "seed", seed_qs)
        rows.append(("seed", engine.store("seed").count(), ours, base))
        if args.chunks:
            n, seconds = build_big(engine, Path(tmp) / "big", args.chunks)
            print(f"  built {n:,} chunks in {seconds:.0f} s", file=sys.stderr)
            t = time.perf_counter()
            engine.ask(qs[0], collection="bench-big")
            print(f"  first ask (opens the lexical index): {time.perf_counter() - t:.1f} s",
                  file=sys.stderr)
            ours, base = time_pair(engine, "bench-big", qs)
            rows.append(("replicated shared data", n, ours, base))
    lines = ["| collection | chunks | ask() p50 ms | ask() p95 ms | stock k=4 p50 ms | "
             "stock k=4 p95 ms | p50 ratio |", "|---|---|---|---|---|---|---|"]
    for name, n, ours, base in rows:
        lines.append(f"| {name} | {n:,} | {pct(ours, 50):.1f} | {pct(ours, 95):.1f} | "
                     f"{pct(base, 50):.1f} | {pct(base, 95):.1f} | "
                     f"{statistics.median(ours) / statistics.median(base):.2f} |")
    lines.append(f"\nCold start (new process to first seed answer), 3 runs: "
                 f"{', '.join(f'{c:.2f} s' for c in colds)}")
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ask_bench.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
