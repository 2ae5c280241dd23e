"""Indexing throughput into a collection that already holds N chunks, beside the raw encoder on
the same text, in one process (its peak memory is the indexing figure).

    python bench/scale_index.py --out bench/out/scale --label 10k [--rounds 3] [--chunks 400]

An increment of real, distinct text (source documents with a header naming the increment, about
``--chunks`` chunks) is indexed by the whole pipeline (``Indexer.build``: load → sentences →
chunks → real embeddings → Chroma) into the cached collection ``OUT/LABEL``; each round indexes a
new increment. The baseline is the same ``Embedder`` (same model and batch size) encoding the
sentences of that increment (``split_sentences`` on the same text): the encoder alone, with
no store. Rounds alternate which goes first (the first round starts with the encoder, so the
peak memory after it is the encoder's alone). Throughput is characters of the increment per
second; the ratio is pipeline / encoder per round, and its median is reported. Afterwards the
increments are removed again (their files deleted, the folder re-indexed), so the cached
collection is back to N chunks.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from scale_build import COLLECTION
from scale_corpus import (
    DEFAULT_DATA,
    backend_of,
    dump,
    load,
    plan_replicas,
    replica_text,
    source_texts,
)
from scale_corpus import write_docs as write_increment

from index.build import Indexer
from index.embed import Embedder
from index.segment import split_sentences
from index.settings import IndexSettings
from index.store import Store


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(out: Path, label: str, rounds: int, chunks: int, data_dir: Path) -> dict[str, Any]:
    root = out / label
    plan = load(out / "template" / "built.json")
    increment = plan_replicas(source_texts(data_dir), plan["chunks_of"], chunks)[0]
    settings = IndexSettings(data_dir=root / "data")
    embedder = Embedder.from_settings(settings)
    embedder.embed(["load and warm up the model"])
    inc = root / "inc"
    shutil.rmtree(inc, ignore_errors=True)
    upgrade_s = 0.0
    rows: list[dict[str, Any]] = []
    encoder_peak = 0.0
    for r in range(rounds):
        copy = f"Increment {r}"
        chars = write_increment(inc / f"r{r}", increment, copy)
        sentences = [s.text for name, text in increment
                     for s in split_sentences(replica_text(copy, name, text))]
        row: dict[str, Any] = {"characters": chars, "encoder_sentences": len(sentences)}

        def encoder(row: dict[str, Any] = row, sentences: list[str] = sentences) -> None:
            wall, cpu = time.perf_counter(), time.process_time()
            embedder.embed(sentences)
            row["encoder_s"] = time.perf_counter() - wall
            row["encoder_cpu_s"] = time.process_time() - cpu

        def pipeline(row: dict[str, Any] = row, r: int = r) -> None:
            wall, cpu = time.perf_counter(), time.process_time()
            report = Indexer(settings, embedder).build([inc / f"r{r}"], COLLECTION, base=root)
            row["pipeline_s"] = time.perf_counter() - wall
            row["pipeline_cpu_s"] = time.process_time() - cpu
            row |= {"chunks": report.chunks, "sentences": report.sentences,
                    "indexed": report.indexed}

        for step in (encoder, pipeline) if r % 2 == 0 else (pipeline, encoder):
            step()
            if r == 0 and step is encoder:
                encoder_peak = peak_mb()
                # then a run with no files: it changes nothing, but gives the document records
                # of a collection built by older code their folders, as any first run would
                started = time.perf_counter()
                (inc / "none").mkdir(parents=True)
                Indexer(settings, embedder).build([inc / "none"], COLLECTION, base=root)
                upgrade_s = time.perf_counter() - started
        row["ratio"] = row["encoder_s"] / row["pipeline_s"]
        rows.append(row)
        print(f"  [{label}] round {r + 1}/{rounds}: {row['chunks']} chunks, "
              f"pipeline {chars / row['pipeline_s']:,.0f} chars/s, encoder "
              f"{chars / row['encoder_s']:,.0f} chars/s, ratio {row['ratio']:.2f}",
              file=sys.stderr)
    indexing_peak = peak_mb()
    # remove the increments: the files go, re-indexing the folder drops their records
    shutil.rmtree(inc)
    inc.mkdir()
    started = time.perf_counter()
    removal = Indexer(settings, embedder).build([inc], COLLECTION, base=root)
    remove_s = time.perf_counter() - started
    shutil.rmtree(inc)
    left = Store(Indexer(settings, embedder).client, COLLECTION).count()
    med = statistics.median
    return {
        "rounds": rows, "increment_docs": len(increment), "backend": backend_of(embedder),
        "increment_chunks": med(r["chunks"] for r in rows),
        "pipeline_chars_s": med(r["characters"] / r["pipeline_s"] for r in rows),
        "encoder_chars_s": med(r["characters"] / r["encoder_s"] for r in rows),
        "ratio": med(r["ratio"] for r in rows),
        "ratio_cpu": med(r["encoder_cpu_s"] / r["pipeline_cpu_s"] for r in rows),
        "encoder_peak_rss_mb": encoder_peak, "indexing_peak_rss_mb": indexing_peak,
        "removed_docs": removal.removed, "remove_s": remove_s, "chunks_after": left,
        "first_run_s": upgrade_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("bench/out/scale"))
    parser.add_argument("--label", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, required=True, help="where to write the figures")
    args = parser.parse_args()
    dump(args.json, measure(args.out, args.label, args.rounds, args.chunks, args.data_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
