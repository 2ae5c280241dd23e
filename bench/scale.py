"""The benchmark suite at scale (``make bench``): indexing throughput, warm ``ask()`` latency,
memory and disk for collections of about 1k, 10k, 100k and 1M chunks, each figure beside a
baseline measured in the same run, written as Markdown tables to bench/RESULTS.md.

    python bench/scale.py [--sizes 1k,10k,100k,1m] [--data-dir ../shared/data] [--fresh]
                          [--queries 100] [--rounds 3] [--increment 400] [--out bench/out]

Per size: build the collection once (cached under OUT/scale/LABEL; ``--fresh`` rebuilds), copy
its chunks into a stock LangChain collection (disk baseline, up to ``--stock-disk-max``
chunks), measure queries (``scale_query.py``), then indexing into it (``scale_index.py``).
Sizes from ``--store-only-from`` chunks up are built straight into the store with random
vectors (``scale_build.py --store-only``). Results accumulate in OUT/scale.json (one entry per
size, from its latest run) and the tables are rewritten after each size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_build import COLLECTION
from scale_corpus import (
    DEFAULT_DATA,
    code_fingerprint,
    du_mb,
    dump,
    load,
    questions,
    source_texts,
    write_docs,
)
from scale_query import measure
from scale_report import tables, update_results

HERE = Path(__file__).resolve().parent
METHOD = """\
## Scale: 1k to 1M chunks (`make bench`, i.e. `python bench/scale.py`)

Every figure stands beside a baseline measured in the same run, on the same shared 2-core
machine; the ratios are what count. Each row comes from the run dated in it.

How it is measured, and every shortcut:

- **Collections.** Real text: the XQuAD and SQuAD 2.0 articles and the HotpotQA paragraphs of
  ../shared/data (100 documents, about 1,340 chunks, 6,700 sentences), replicated until the size is
  reached, each copy with a header line naming it. Up to 100k the collections are built by the
  normal pipeline (`Indexer.build`: load → sentences → chunks → vectors → Chroma and the lexical
  index, all real) with one shortcut: each distinct sentence is encoded once by the real model and
  the vector cached; a repeat gets the cached vector plus a tiny random perturbation. The "bulk
  build" column is that run (not the indexing figure). **1M is store-only**: the chunk records of
  one pipeline-built copy (real text and metadata) are written straight to Chroma, replicated under
  new document names, with **seeded random unit vectors**, and to the lexical index, each with its
  copy's real sentence vectors; one document record per replicated document, its text cut to 200
  characters. So at 1M `ask()` does all its work (dense query over 1M chunks, BM25 and record reads
  from the lexical index of 1M chunks), and the disk figure lacks only the full document texts.
- **Lexical index.** Before the queries, `rag index --repair` runs on the collection in its own
  process (timed with the process start and model load): the builds write the lexical index, so it
  only checks it. "disk: lexical" is the lexical index's folder.
- **Indexing.** The collection of N chunks gets an increment of new real text (source documents with
  a new header, ~`--increment` chunks) through the whole pipeline with **real embeddings**, beside
  the raw encoder (the same `Embedder`, same model and batch size, encoding the increment's
  sentences, no store), alternately, `--rounds` rounds, each a new increment. Figure: characters of
  the increment per second; ratio = pipeline / encoder, median of the per-round ratios (wall time;
  the CPU-time ratio beside it). Each round is a separate `Indexer.build` run, so it includes a
  run's fixed costs on an N-chunk collection (what the indexer reads and checks before and after
  writing); small increments weigh those more. The increments are removed again afterwards.
- **Queries.** Two processes on the same chunk collection with the same embedding model: ours
  (`Engine.ask`, extractive) and stock (`langchain_chroma.Chroma(...).similarity_search(q, k=4)`).
  Every file of the collection is read once before (so the OS page cache holds it, as on a server
  that has run a while, whatever earlier steps left there); both processes load first (model load
  not counted); "first" is each one's first question (loads the vector index; for `ask()` also opens
  the lexical index from disk, reading no chunk text); then a warm-up of 5 other questions; then
  `--queries` XQuAD questions sent to both, question by question, alternating which goes first, each
  process timing its own call. At 1M the dense part searches random vectors (the ranking is
  meaningless, the work is real, and the stock query does the same search); "answered" counts
  non-refused answers with citations. **After adding files**: then the `ask()` process indexes
  `--added` new source documents (about 10 files) into the collection it serves: the raw encoder on
  their sentences first, then the indexing run (`Engine.index`), then its first question after that
  run, each timed; "run / encoder" is the run's time over the encoder's. The files are removed again
  by a further run.
- **Memory**: peak RSS of each process (serving ours, before it indexes the added files; serving
  stock; indexing the increments; "encoder alone" is the indexing process's peak after its first
  encoder-only round; the bulk build process). **Disk**: allocated bytes of our data folder
  (Chroma's collections and the lexical index) beside a stock LangChain collection of the same
  chunks (same texts and vectors, `{"source"}` metadata, written with `Chroma.add_texts`), both as
  built (before any increment); the stock copy is not built at 1M (it would add a second 1M-vector
  build).
- **Encoder**: whatever `index.embed.Embedder` loads by default (its backend is named in the "run"
  column); the bulk builds' cached vectors may come from another backend.
"""


def label_size(text: str) -> tuple[str, int]:
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    n = int(float(text[:-1] if mult > 1 else text) * mult)
    return text, n


def run(args: list[str]) -> None:
    subprocess.run([sys.executable, *args], check=True)


def lexical_repair(data: Path) -> dict[str, Any]:
    """``rag index --repair`` on the collection, timed: it builds the lexical index of a
    collection indexed by older code (once); on a current one it only checks."""
    env = os.environ | {"RAG_DATA_DIR": str(data)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rag.cli", "index", "--repair", "--collection",
                           COLLECTION, "--quiet"], env=env, check=True, capture_output=True,
                          text=True, cwd=HERE.parent)
    return {"seconds": time.perf_counter() - started, "said": done.stdout.strip()}


def reads_with_model() -> bool:
    """Whether ``ask()`` answers with the trained reader (``RAG_READER=false``: the hand rules,
    whose rows are labelled so and kept beside the reader's)."""
    return os.environ.get("RAG_READER", "true").strip().lower() not in ("false", "0", "no")


def write_tables(results: dict[str, Any], out: Path, results_md: Path) -> None:
    order = sorted(results, key=lambda k: (results[k]["size"], k))
    section = METHOD + "\n" + tables(results, order) + "\n"
    (out / "scale.md").write_text(section, encoding="utf-8")
    update_results(results_md, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1k,10k,100k,1m")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached collections")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--increment", type=int, default=400, help="chunks per increment")
    parser.add_argument("--added", type=int, default=10,
                        help="files the serving process indexes before its timed next question")
    parser.add_argument("--store-only-from", type=int, default=1_000_000)
    parser.add_argument("--stock-disk-max", type=int, default=200_000)
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the tables from OUT/scale.json, measure nothing")
    args = parser.parse_args()
    sizes = [label_size(s) for s in args.sizes.split(",") if s.strip()]
    scale = args.out / "scale"
    fresh = ["--fresh"] if args.fresh else []
    common = ["--out", str(scale), "--data-dir", str(args.data_dir)]
    qs = questions(args.data_dir, args.queries + 6)
    timed, warmup = qs[: args.queries], qs[args.queries :]
    results: dict[str, Any] = load(args.out / "scale.json") or {}
    if args.report_only:
        sizes = []
        write_tables(results, args.out, args.results)
    else:
        run([str(HERE / "scale_build.py"), "--label", "template", *common, *fresh])
    for label, n in sizes:
        started = time.perf_counter()
        root = scale / label
        store_only = n >= args.store_only_from
        print(f"== {label}: {n:,} chunks{' (store-only)' if store_only else ''}", file=sys.stderr)
        run([str(HERE / "scale_build.py"), "--label", label, "--chunks", str(n), *common,
             *fresh, *(["--store-only"] if store_only else [])])
        built = load(root / "built.json")
        if n <= args.stock_disk_max:
            run([str(HERE / "scale_build.py"), "--label", label, "--stock", *common, *fresh])
        # as built (measured by the build): later runs' increments leave freed space behind
        stock = load(root / "stock.json") or {}
        disk_ours = built.get("disk_mb") or du_mb(root / "data")
        disk_stock = stock.get("disk_mb") or du_mb(root / "stock")
        repair = lexical_repair(root / "data")
        if not built.get("has_lexical", True):  # built by older code: add what the repair wrote
            disk_ours += du_mb(root / "data" / "lexical") or 0.0
        added = root / "added"
        shutil.rmtree(added, ignore_errors=True)
        write_docs(added, source_texts(args.data_dir)[: args.added], "Added copy")
        query = measure(root / "data", COLLECTION, timed, warmup, label, added)
        shutil.rmtree(added, ignore_errors=True)
        run([str(HERE / "scale_index.py"), "--label", label, "--rounds", str(args.rounds),
             "--chunks", str(args.increment), "--json", str(root / "index.json"),
             "--out", str(scale), "--data-dir", str(args.data_dir)])
        entry = {
            "label": label + ("" if reads_with_model() else ", hand rules"),
            "target": n, "chunks": built["chunks"],
            "sentences": built["sentences"], "docs": built["docs"], "build": built,
            "stock_build": stock or None, "disk_ours_mb": disk_ours,
            "disk_stock_mb": disk_stock, "query": query, "repair": repair,
            "disk_lexical_mb": du_mb(root / "data" / "lexical"), "index": load(root / "index.json"),
            "run_at": time.strftime("%Y-%m-%d %H:%M"),
            "seconds": time.perf_counter() - started, "size": n,
            "index_code_now": code_fingerprint(HERE.parent),
        }
        results = load(args.out / "scale.json") or {}  # other runs may have added sizes
        results[entry["label"]] = entry
        dump(args.out / "scale.json", results)
        write_tables(results, args.out, args.results)
        print(f"== {label} done in {entry['seconds'] / 60:.1f} min", file=sys.stderr)
    print((args.out / "scale.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
