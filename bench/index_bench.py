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
    raw_par, raw_sent, pipe = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "xquad"
        folder.mkdir()
        for i, text in enumerate(texts):
            (folder / f"p{i:03d}.txt").write_text(text, encoding="utf-8")
        for r in range(args.rounds):
            t = time.perf_counter()
            embedder.embed(texts)
            raw_par.append(chars / (time.perf_counter() - t))
            t = time.perf_counter()
            embedder.embed(sentences)
            raw_sent.append(chars / (time.perf_counter() - t))
            indexer = Indexer(IndexSettings(data_dir=Path(tmp) / f"data{r}"), embedder)
            report = indexer.build([folder], "xquad")
            pipe.append(report.characters / report.seconds)
            print(f"round {r + 1}: raw paragraphs {raw_par[-1]:,.0f} chars/s, raw sentences "
                  f"{raw_sent[-1]:,.0f} chars/s, pipeline {pipe[-1]:,.0f} chars/s "
                  f"({report.files} files, {report.sentences} sentences, {report.chunks} chunks)",
                  file=sys.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median
    print(f"XQuAD paragraphs: {len(texts)} files, {chars:,} characters, {len(sentences)} sentences")
    print(f"| what | chars/s (median of {args.rounds}) |")
    print("|---|---|")
    print(f"| raw encoder, paragraphs | {med(raw_par):,.0f} |")
    print(f"| raw encoder, sentences | {med(raw_sent):,.0f} |")
    print(f"| pipeline (load → Chroma) | {med(pipe):,.0f} |")
    print(f"ratio pipeline / raw encoder on paragraphs: {med(pipe) / med(raw_par):.2f}")
    print(f"ratio pipeline / raw encoder on sentences: {med(pipe) / med(raw_sent):.2f}")
    print(f"peak memory (RSS): {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
