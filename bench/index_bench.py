"""Indexing throughput against the raw encoder, measured in the same run.

    python bench/index_bench.py [--data ../shared/data/xquad.en.json] [--rounds 3]

Writes the 240 XQuAD paragraphs as files, then alternates, for each round: the raw encoder
(``SentenceTransformer.encode`` on the paragraphs, then on the sentences the pipeline embeds)
and the whole pipeline (load → sentences → chunks → vectors → Chroma) into a fresh collection.
Prints characters per second of each and the ratio pipeline / raw encoder (median of rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from index.build import Indexer
from index.embed import Embedder
from index.segment import split_sentences
from index.settings import IndexSettings


def paragraphs(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [p["context"] for article in data for p in article["paragraphs"]]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path("../shared/data/xquad.en.json"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = paragraphs(args.data)
    chars = sum(len(t) for t in texts)
    sentences = [s.text for t in texts for s in split_sentences(t)]
    embedder = Embedder()
    embedder.embed(texts[:8])  # load and warm the model outside the timings
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "xquad"
        folder.mkdir()
        for i, text in enumerate(texts):
            (folder / f"p{i:03d}.txt").write_text(text, encoding="utf-8")
        for r in range(args.rounds):
            row: dict[str, float] = {}
            for name, work in (
                ("raw_paragraphs", lambda: embedder.embed(texts)),
                ("raw_sentences", lambda: embedder.embed(sentences)),
                ("pipeline", lambda r=r: Indexer(IndexSettings(data_dir=Path(tmp) / f"d{r}"),
                                                 embedder).build([folder], "xquad")),
            ):
                wall, cpu = time.perf_counter(), time.process_time()
                work()
                row[name] = time.perf_counter() - wall
                row[name + "_cpu"] = time.process_time() - cpu
            rows.append(row)
            print(f"round {r + 1}: " + ", ".join(f"{k} {chars / v:,.0f} chars/s"
                                                for k, v in row.items()), file=sys.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median

    def ratio(a: str, b: str) -> float:
        """Median over rounds of the per-round ratio of throughputs (time b / time a)."""
        return med(row[b] / row[a] for row in rows)

    print(f"XQuAD paragraphs: {len(texts)} files, {chars:,} characters, {len(sentences)} "
          f"sentences; {args.rounds} rounds, each timing the three in turn")
    print("| what | chars/s, wall (median) | chars/s, CPU time (median) |")
    print("|---|---|---|")
    for name in ("raw_paragraphs", "raw_sentences", "pipeline"):
        print(f"| {name.replace('_', ' ')} | {chars / med(r[name] for r in rows):,.0f} | "
              f"{chars / med(r[name + '_cpu'] for r in rows):,.0f} |")
    for base in ("raw_paragraphs", "raw_sentences"):
        print(f"pipeline / {base.replace('_', ' ')}: {ratio('pipeline', base):.2f} wall, "
              f"{ratio('pipeline_cpu', base + '_cpu'):.2f} CPU time (median of per-round ratios)")
    print(f"peak memory (RSS): {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
