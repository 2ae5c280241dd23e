"""Indexing throughput against the raw encoder, measured in the same run.

    .venv/bin/python bench/index_bench.py [--data ../shared/data/xquad.en.json] [--rounds 3]

Writes the 240 XQuAD paragraphs as files, then alternates, for each round:

- the raw encoder on the paragraphs, then on the sentences the pipeline embeds (``Embedder.embed``:
  the same backend, the same model and the same batch size as the pipeline, the product's
  ``RAG_EMBED_BATCH_SIZE``);
- the whole pipeline (load → sentences → chunks → vectors → Chroma) into a fresh collection;
- the same pipeline with the vectors taken from a cache: everything but the encoder.

Prints characters per second of each, wall-clock and CPU time (all threads of the process), and
the ratio pipeline / raw encoder as the median of the per-round ratios. On a shared machine the
CPU-time ratio is the steadier one.
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
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np

from index.build import Indexer
from index.embed import Embedder, Vectors
from index.segment import split_sentences
from index.settings import IndexSettings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "xquad.en.json"
NAMES = {
    "raw_paragraphs": "raw encoder, paragraphs",
    "raw_sentences": "raw encoder, sentences",
    "pipeline": "pipeline (files → Chroma)",
    "cached": "pipeline, cached vectors",
}


class CachedEmbedder(Embedder):
    """The pipeline's embedder with its vectors looked up: the cost of everything else."""

    def __init__(self, real: Embedder, vectors: dict[str, Vectors]) -> None:
        super().__init__(real.model_path, real.batch_size)
        self._model = real.model
        self.vectors = vectors

    def embed(self, texts: Sequence[str]) -> Vectors:
        missing = [t for t in texts if t not in self.vectors]
        self.vectors.update(zip(missing, super().embed(missing), strict=True))
        out: Vectors = np.stack([self.vectors[t] for t in texts])
        return out


def paragraphs(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [p["context"] for article in data for p in article["paragraphs"]]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = paragraphs(args.data)
    chars = sum(len(t) for t in texts)
    sentences = [s.text for t in texts for s in split_sentences(t)]
    settings = IndexSettings()
    embedder = Embedder(settings.model_path, settings.embed_batch_size)
    embedder.embed(texts[:8])  # load and warm the model outside the timings
    cached = CachedEmbedder(embedder, {})
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "xquad"
        folder.mkdir()
        for i, text in enumerate(texts):
            (folder / f"p{i:03d}.txt").write_text(text, encoding="utf-8")
        runs = 0

        def index(encoder: Embedder) -> Callable[[], object]:
            def work() -> object:
                nonlocal runs
                runs += 1
                data = IndexSettings(data_dir=Path(tmp) / f"d{runs}")
                return Indexer(data, encoder).build([folder], "xquad")
            return work

        index(cached)()  # fills the cache (the same sentences as the pipeline's)
        for r in range(args.rounds):
            row: dict[str, float] = {}
            for name, work in (
                ("raw_paragraphs", lambda: embedder.embed(texts)),
                ("raw_sentences", lambda: embedder.embed(sentences)),
                ("pipeline", index(embedder)),
                ("cached", index(cached)),
            ):
                wall, cpu = time.perf_counter(), time.process_time()
                work()
                row[name] = time.perf_counter() - wall
                row[name + "_cpu"] = time.process_time() - cpu
            rows.append(row)
            print(f"round {r + 1}: " + ", ".join(
                f"{k} {v:.2f} s" for k, v in row.items()), file=sys.stderr, flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median

    def ratio(a: str, b: str) -> float:
        """Median over rounds of the per-round ratio of throughputs (time b / time a)."""
        return med(row[b] / row[a] for row in rows)

    model = embedder.model
    print(f"XQuAD paragraphs: {len(texts)} files, {chars:,} characters, {len(sentences)} "
          f"sentences; encoder {getattr(model, 'backend', '?')}, batch size "
          f"{embedder.batch_size}; {args.rounds} rounds, each timing the four in turn")
    print("| what | chars/s, wall (median) | chars/s, CPU time (median) |")
    print("|---|---|---|")
    for name, label in NAMES.items():
        print(f"| {label} | {chars / med(r[name] for r in rows):,.0f} | "
              f"{chars / med(r[name + '_cpu'] for r in rows):,.0f} |")
    for base in ("raw_paragraphs", "raw_sentences"):
        print(f"RATIO pipeline / {NAMES[base]}: {ratio('pipeline', base):.2f} wall, "
              f"{ratio('pipeline_cpu', base + '_cpu'):.2f} CPU time "
              f"(median of {len(rows)} per-round ratios)")
    print(f"everything but the encoder: {med(r['cached'] / r['raw_sentences'] for r in rows):.1%}"
          f" of the raw sentence encoding's wall time, "
          f"{med(r['cached_cpu'] / r['raw_sentences_cpu'] for r in rows):.1%} of its CPU time")
    print(f"peak memory (RSS): {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
