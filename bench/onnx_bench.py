"""ONNX vs torch embedding: speed, vector agreement and retrieval agreement, one run.

    python bench/onnx_bench.py [--rounds 3] [--batch-size 16] [--ask] [--json PATH]

- throughput (sentences/s) on the XQuAD sentences, and single-query latency on XQuAD
  questions, of: sentence-transformers on torch, the ONNX export (fp32; 1 and 2 intra-op
  threads) and its dynamic int8 quantization; the variants take turns within each round and
  the ratio is the median of the per-round ratios (timings on a shared machine are noisy);
- the largest absolute difference of each variant's vectors from torch's;
- retrieval agreement on every eval set (seed, XQuAD, SQuAD 2.0, HotpotQA distractor and
  open): each question ranks the sentences of its corpus by cosine; how often top-1, the
  ordered top-5 and the top-5 set equal torch's, and hit@1 / hit@5 of the gold sentences;
- cold start: a new process that imports the embedder and embeds one query, per backend
  (alternating); with ``--ask`` also ``rag ask`` on the seed collection (alternating).

The ONNX export is made (once) in the embedder's default cache folder; the int8 file is made
next to it.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

from eval.datasets import Dataset, load
from index.embed import Embedder, Encoder, Vectors, default_model_path
from index.onnx_model import OnnxEncoder, cached_path
from index.segment import split_sentences

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
QUESTION = "How many people were killed?"
COLD = """
import sys, time
t = time.perf_counter()
from index.embed import Embedder
e = Embedder(backend=sys.argv[1])
e.embed([sys.argv[2]])
print(type(e.model).__name__, time.perf_counter() - t)
"""


@dataclass
class Variant:
    name: str
    encoder: Encoder



def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of an export (weights int8, activations quantized per call).

    Not used by the embedder: it changes rankings (this benchmark shows how much).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        quantize_dynamic(str(source), name, weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        proto = onnx.load(name)
        meta = {p.key: p.value for p in onnx.load(str(source)).metadata_props}
        del proto.metadata_props[:]
        onnx.helper.set_model_props(proto, meta)
        onnx.save(proto, name)
        Path(name).replace(target)
    finally:
        Path(name).unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16,
                        help="the indexer's batch (RAG_EMBED_BATCH_SIZE default: 16)")
    parser.add_argument("--sentences", type=int, default=0, help="limit (0: all XQuAD)")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--cold-rounds", type=int, default=3)
    parser.add_argument("--ask", action="store_true", help="also time `rag ask` cold starts")
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args()

    model_path = default_model_path()
    onnx_embedder = Embedder(backend="onnx")
    onnx_embedder.embed(["warm-up"])  # exports once into the cache folder
    fp32 = cached_path(model_path)
    int8 = fp32.with_name("model-int8.onnx")
    if not int8.exists():
        quantize_int8(fp32, int8)
    torch_embedder = Embedder(backend="torch")
    torch_embedder.embed(["warm-up"])
    variants = [
        Variant("torch (sentence-transformers)", torch_embedder.model),
        Variant("onnx fp32, 1 thread", OnnxEncoder(model_path, fp32, threads=1)),
        Variant("onnx fp32, 2 threads", OnnxEncoder(model_path, fp32, threads=2)),
        Variant("onnx int8, 1 thread", OnnxEncoder(model_path, int8, threads=1)),
    ]
    report: dict[str, Any] = {"onnx_file": str(fp32), "batch_size": args.batch_size,
                              "rounds": args.rounds, "cpus": os.cpu_count()}

    xquad = json.loads((DATA / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    paragraphs = [p for a in xquad for p in a["paragraphs"]]
    sentences = list(dict.fromkeys(s.text for p in paragraphs
                                   for s in split_sentences(p["context"])))
    if args.sentences:
        sentences = sentences[: args.sentences]
    questions = [q["question"] for p in paragraphs for q in p["qas"]][: args.queries]

    speed = throughput(variants, sentences, questions, args)
    report["speed"] = speed
    print(f"\n## Speed ({len(sentences)} XQuAD sentences, batch {args.batch_size}; "
          f"{len(questions)} single queries; {args.rounds} alternating rounds, median)\n")
    print("| variant | sentences/s | ratio vs torch | query ms (median) | query ratio vs torch |")
    print("|---|---|---|---|---|")
    for v in variants:
        s = speed[v.name]
        print(f"| {v.name} | {s['sentences_per_s']:.1f} | {s['ratio']:.2f} | "
              f"{s['query_ms']:.1f} | {s['query_ratio']:.2f} |")

    agreement = retrieval(variants, args.batch_size)
    report["retrieval"] = agreement
    print("\n## Vectors and retrieval vs torch (cosine over each question's corpus sentences)\n")
    print("| variant | eval set | questions | max abs diff | top-1 same | top-5 same (ordered) "
          "| top-5 same (set) | gold hit@1 | gold hit@5 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rows in agreement.items():
        for ds, r in rows.items():
            print(f"| {name} | {ds} | {r['questions']} | {r['max_abs_diff']:.2g} | "
                  f"{r['top1_same']:.1%} | {r['top5_same_ordered']:.1%} | "
                  f"{r['top5_same_set']:.1%} | {r['hit1']:.1%} | {r['hit5']:.1%} |")

    cold = cold_start(args.cold_rounds, args.ask)
    report["cold_start"] = cold
    print(f"\n## Cold start (new process, {args.cold_rounds} alternating rounds, median s)\n")
    print("| what | torch | onnx | ratio |")
    print("|---|---|---|---|")
    for what, row in cold.items():
        print(f"| {what} | {row['torch']:.2f} | {row['onnx']:.2f} | "
              f"{row['torch'] / row['onnx']:.2f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


def throughput(variants: Sequence[Variant], sentences: list[str], questions: list[str],
               args: argparse.Namespace) -> dict[str, dict[str, float]]:
    batch: dict[str, list[float]] = {v.name: [] for v in variants}
    query: dict[str, list[float]] = {v.name: [] for v in variants}
    for v in variants:  # warm-up outside the timings
        v.encoder.encode(sentences[: args.batch_size * 2], args.batch_size)
    for r in range(args.rounds):
        for v in variants:
            batch[v.name].append(timed(lambda v=v: v.encoder.encode(sentences, args.batch_size)))
            times = [timed(lambda q=q, v=v: v.encoder.encode([q], 1)) for q in questions]
            query[v.name].append(statistics.median(times))
        print(f"round {r + 1}: " + ", ".join(f"{v.name} {len(sentences) / batch[v.name][-1]:.0f}"
                                            f"/s" for v in variants), file=sys.stderr)
    base = variants[0].name
    out = {}
    for v in variants:
        out[v.name] = {
            "sentences_per_s": len(sentences) / statistics.median(batch[v.name]),
            "ratio": statistics.median(b / t for b, t in zip(batch[base], batch[v.name],
                                                              strict=True)),
            "query_ms": 1000 * statistics.median(query[v.name]),
            "query_ratio": statistics.median(b / t for b, t in zip(query[base], query[v.name],
                                                                    strict=True)),
        }
    return out


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def retrieval(variants: Sequence[Variant],
              batch_size: int) -> dict[str, dict[str, dict[str, float]]]:
    datasets: list[Dataset] = []
    for name in ("seed", "xquad", "squad2", "hotpot"):
        datasets.extend(load(name))
    texts: dict[str, int] = {}
    corpora: dict[str, list[tuple[int, str, int, int]]] = {}  # text index, source, start, end
    for ds in datasets:
        for corpus in ds.corpora:
            key = f"{ds.name}/{corpus.name}"
            if key in corpora:
                continue
            rows = corpora[key] = []
            for source, text in corpus.documents.items():
                for s in split_sentences(text, source):
                    rows.append((texts.setdefault(s.text, len(texts)), source, s.start, s.end))
    for ds in datasets:
        for case in ds.cases:
            texts.setdefault(case.question, len(texts))
    all_texts = list(texts)
    print(f"retrieval: {len(datasets)} eval sets, {len(all_texts)} distinct texts",
          file=sys.stderr)
    # one variant per distinct model file: threads do not change the vectors
    seen: dict[str, Vectors] = {}
    for v in variants:
        key = str(getattr(v.encoder, "onnx_path", v.name))
        if key not in seen:
            seen[key] = v.encoder.encode(all_texts, batch_size)
    vectors = {v.name: seen[str(getattr(v.encoder, "onnx_path", v.name))] for v in variants}
    base = vectors[variants[0].name]
    out: dict[str, dict[str, dict[str, float]]] = {}
    named = [variants[0]] + [v for v in variants[1:] if "2 threads" not in v.name]
    for v in named:
        vec = vectors[v.name]
        out[v.name] = {}
        for ds in datasets:
            top1 = top5o = top5s = hit1 = hit5 = gold_n = 0
            diff = 0.0
            for case in ds.cases:
                cands = corpora[f"{ds.name}/{case.corpus}"]
                idx = np.array([c[0] for c in cands])
                q = texts[case.question]
                ref = np.argsort(-(base[idx] @ base[q]), kind="stable")[:5]
                got = np.argsort(-(vec[idx] @ vec[q]), kind="stable")[:5]
                diff = max(diff, float(np.abs(vec[idx] - base[idx]).max()),
                           float(np.abs(vec[q] - base[q]).max()))
                top1 += int(ref[0] == got[0])
                top5o += int((ref == got).all())
                top5s += int(set(ref.tolist()) == set(got.tolist()))
                gold = {i for i, (_, src, start, end) in enumerate(cands)
                        if any(src == g[0] and start < g[2] and g[1] < end
                               for g in case.evidence)}
                if case.answerable and gold:
                    gold_n += 1
                    hit1 += int(int(got[0]) in gold)
                    hit5 += int(bool(gold & set(got.tolist())))
            n = max(1, len(ds.cases))
            out[v.name][ds.name] = {
                "questions": len(ds.cases), "max_abs_diff": diff, "top1_same": top1 / n,
                "top5_same_ordered": top5o / n, "top5_same_set": top5s / n,
                "hit1": hit1 / max(1, gold_n), "hit5": hit5 / max(1, gold_n),
            }
    return out


def cold_start(rounds: int, ask: bool) -> dict[str, dict[str, float]]:
    env = dict(os.environ)
    runs: dict[str, dict[str, list[float]]] = {"import + embed one query": {"torch": [],
                                                                            "onnx": []}}
    with tempfile.TemporaryDirectory() as tmp:
        rag = str(Path(sys.executable).with_name("rag"))
        if ask:
            env["RAG_DATA_DIR"] = tmp
            subprocess.run([rag, "index", "seeds", "--quiet"], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            runs["rag ask (seed)"] = {"torch": [], "onnx": []}
        for _ in range(rounds):
            for backend in ("torch", "onnx"):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", COLD, backend, QUESTION], cwd=ROOT,
                               env=env, check=True, stdout=subprocess.DEVNULL)
                runs["import + embed one query"][backend].append(time.perf_counter() - start)
                if ask:
                    start = time.perf_counter()
                    subprocess.run([rag, "ask", QUESTION], cwd=ROOT, check=True,
                                   env={**env, "RAG_EMBED_BACKEND": backend},
                                   stdout=subprocess.DEVNULL)
                    runs["rag ask (seed)"][backend].append(time.perf_counter() - start)
    return {what: {b: statistics.median(t) for b, t in row.items()}
            for what, row in runs.items()}


if __name__ == "__main__":
    raise SystemExit(main())
