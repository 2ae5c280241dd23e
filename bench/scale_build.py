"""Build (once, cached) the collections that ``bench/scale.py`` measures; one run per process,
so that its peak memory is its own.

    python bench/scale_build.py --out bench/out/scale --label 10k --chunks 10000 [--fresh]
    python bench/scale_build.py --out bench/out/scale --label 1m --chunks 1000000 --store-only
    python bench/scale_build.py --out bench/out/scale --label 10k --stock

Collections live in ``OUT/LABEL/data`` (collection ``bench``); ``OUT/LABEL/built.json`` marks
a finished build and holds its figures.

- ``template``: one copy of every source document through the normal pipeline. Its per-document
  chunk counts plan the other sizes; its records are the pattern of the store-only build.
- pipeline build (default): replicas of the source documents (each with a header naming its
  copy) through the normal pipeline (``Indexer.build``), every stage real except the encoder:
  each distinct sentence is encoded once by the real model and cached on disk; a repeat gets
  the cached vector plus a tiny random perturbation (``ReplicaEmbedder``).
- ``--store-only``: the records are written straight to the store, no pipeline: chunks are
  the template's chunk records (real text and metadata) replicated, each replica under its own
  document names (and sentence ids), with seeded random unit vectors in Chroma; one document
  record per replicated document whose text is cut to its first 200 characters (``ask()``
  never reads it); the lexical index gets the same chunk records, each with its template
  chunk's real sentence vectors, written as an indexing run writes it and committed with the
  same version.
- ``--stock``: a stock LangChain collection of the same chunks (``Chroma.add_texts`` with the
  same vectors, ``{"source": ...}`` metadata) in ``OUT/LABEL/stock``, for the disk baseline.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import resource
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np
from scale_corpus import (
    DEFAULT_DATA,
    ReplicaEmbedder,
    code_fingerprint,
    du_mb,
    dump,
    load,
    plan_replicas,
    source_texts,
    unit_vectors,
    write_docs,
)
from tqdm import tqdm

from index.build import Indexer
from index.lexical import LexicalReader, LexicalWriter
from index.lexical import drop as lexical_drop
from index.records import pack_vectors
from index.settings import IndexSettings
from index.store import DOCS, Store, open_client

COLLECTION = "bench"
ROOT = Path(__file__).resolve().parents[1]
STUB_CHARS = 200


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_pipeline(out: Path, label: str, target: int, data_dir: Path,
                   template: bool = False) -> dict[str, Any]:
    root = out / label
    docs = source_texts(data_dir)
    if template:
        replicas = [docs]
    else:
        plan = load(out / "template" / "built.json")
        if plan is None:
            raise SystemExit("build the template first (bench/scale.py does)")
        replicas = plan_replicas(docs, plan["chunks_of"], target)
    chars = sum(write_docs(root / "corpus" / f"r{r:04d}", rep, f"Copy {r}")
                for r, rep in enumerate(replicas))
    settings = IndexSettings(data_dir=root / "data")
    embedder = ReplicaEmbedder(settings.model_path, settings.embed_batch_size,
                               cache_file=out / "embeddings-cache.npz")
    indexer = Indexer(settings, embedder)
    print(f"  [{label}] indexing {len(replicas)} replica(s), {chars:,} characters "
          f"({len(embedder.cache):,} cached sentence vectors)", file=sys.stderr)
    started = time.perf_counter()
    report = indexer.build([root / "corpus"], COLLECTION, progress=True, base=root)
    seconds = time.perf_counter() - started
    embedder.save()
    store = Store(indexer.client, COLLECTION)
    built: dict[str, Any] = {
        "label": label, "kind": "template" if template else "pipeline", "target": target,
        "replicas": len(replicas), "characters": chars, "seconds": seconds,
        "encoded_sentences": embedder.encoded, "report": report.summary(),
        **counts(store),
    }
    if template:
        built["chunks_of"] = {Path(d.source).stem: d.chunks for d in store.docs().values()}
    return built


def counts(store: Store) -> dict[str, int]:
    return {"chunks": store.count(), "sentences": int(store.state().get("sentences", 0)),
            "docs": store.count(DOCS)}


def read_all(col: Any, include: list[str], page: int = 5000) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
    offset = 0
    while True:
        got = col.get(include=include, limit=page, offset=offset)
        out["ids"] += got["ids"]
        for k in include:
            out[k] += list(got[k])
        if len(got["ids"]) < page:
            return out
        offset += page


def build_store_only(out: Path, label: str, target: int, seed: int = 0) -> dict[str, Any]:
    """Replicate the template's records straight into the store (see the module docstring)."""
    tpl_settings = IndexSettings(data_dir=out / "template" / "data")
    tpl = Store(open_client(tpl_settings), COLLECTION)
    chunks = read_all(tpl.col(""), ["documents", "metadatas"])
    docs = read_all(tpl.col(DOCS), ["documents", "metadatas"])
    reader = LexicalReader.open(tpl_settings.lexical_dir, COLLECTION, *tpl.committed())
    assert reader is not None, "the template has no lexical index: rebuild it (--fresh)"
    records = reader.records(chunks["ids"])
    packed = {i: pack_vectors(r.vectors) for i, r in records.items()}
    dim = next(iter(records.values())).vectors.shape[1]
    by_source: dict[str, list[int]] = {}
    for i, meta in enumerate(chunks["metadatas"]):
        by_source.setdefault(str(meta["source"]), []).append(i)
    per_replica = len(chunks["ids"])
    replicas = -(-target // per_replica)
    root = out / label
    settings = IndexSettings(data_dir=root / "data")
    store = Store(open_client(settings), COLLECTION)
    generation = max(int(m.get("generation", 0)) for m in docs["metadatas"])
    started = time.perf_counter()
    store.drop()  # one pass: the lexical writer cannot resume a dead build
    lexical_drop(settings.lexical_dir, COLLECTION)
    store.col(DOCS)
    lex = LexicalWriter.start(settings.lexical_dir, COLLECTION, generation - 1, generation)
    written = 0
    bar = tqdm(total=min(target, replicas * per_replica), unit="chunk",
               desc=f"writing {label} (store-only)", file=sys.stderr, smoothing=0.05)
    group = max(1, store.max_batch // per_replica)
    sentences = 0
    for first in range(0, replicas, group):
        c_ids: list[str] = []
        c_texts: list[str] = []
        c_metas: list[dict[str, Any]] = []
        c_packed: list[bytes] = []
        d_ids: list[str] = []
        d_texts: list[str] = []
        d_metas: list[dict[str, Any]] = []
        for r in range(first, min(first + group, replicas)):
            for d_id, d_text, d_meta in zip(docs["ids"], docs["documents"], docs["metadatas"],
                                            strict=True):
                if written >= target:
                    break
                source, sha = rename(str(d_meta["source"]), str(d_meta["doc_sha"]), r)
                for i in by_source.get(str(d_meta["source"]), []):
                    meta = dict(chunks["metadatas"][i])
                    ids = ",".join(f"{sid}.{r}" for sid in str(meta["sentence_ids"]).split(","))
                    c_ids.append(f"{chunks['ids'][i]}.{r}")
                    c_texts.append(chunks["documents"][i])
                    c_metas.append(meta | {"source": source, "doc_sha": sha, "sentence_ids": ids})
                    c_packed.append(packed[chunks["ids"][i]])
                    written += 1
                d_ids.append(f"{d_id}.{r}")
                d_texts.append(d_text if r == 0 else d_text[:STUB_CHARS])
                d_metas.append(dict(d_meta) | {"source": source, "doc_sha": sha})
                sentences += int(d_meta["sentences"])
        rng = np.random.default_rng([seed, first])
        add(store.col(""), c_ids, unit_vectors(rng, len(c_ids), dim), c_texts, c_metas)
        lex.add(c_ids, c_texts, c_metas, c_packed)
        add(store.col(DOCS), d_ids, unit_vectors(rng, len(d_ids), dim), d_texts, d_metas)
        bar.update(len(c_ids))
    bar.close()
    version = uuid.uuid4().hex
    lex.commit(version)
    store.commit(generation, (store.count(""), sentences), version)
    return {"label": label, "kind": "store-only", "target": target, "replicas": replicas,
            "seconds": time.perf_counter() - started, **counts(store)}


def rename(source: str, sha: str, replica: int) -> tuple[str, str]:
    if replica == 0:
        return source, sha
    return (f"r{replica:04d}/{source}",
            hashlib.sha256(f"{sha}:{replica}".encode()).hexdigest())


def add(col: Any, ids: list[str], vectors: Any, texts: list[str],
        metas: list[dict[str, Any]]) -> None:
    step = 5000
    for i in range(0, len(ids), step):
        col.add(ids=ids[i : i + step], embeddings=vectors[i : i + step],
                documents=texts[i : i + step], metadatas=metas[i : i + step])


def build_stock(out: Path, label: str) -> dict[str, Any]:
    """A stock LangChain Chroma collection holding the same chunk texts and vectors."""
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

    class Given(Embeddings):
        """Hands LangChain the vectors we already have, in order."""

        def __init__(self) -> None:
            self.next: list[list[float]] = []

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            assert len(texts) == len(self.next)
            return self.next

        def embed_query(self, text: str) -> list[float]:
            raise NotImplementedError

    root = out / label
    shutil.rmtree(root / "stock", ignore_errors=True)
    ours = Store(open_client(IndexSettings(data_dir=root / "data")), COLLECTION).col("")
    given = Given()
    stock = Chroma(collection_name=COLLECTION, embedding_function=given,
                   persist_directory=str(root / "stock"))
    started = time.perf_counter()
    total = ours.count()
    bar = tqdm(total=total, unit="chunk", desc=f"stock LangChain copy of {label}",
               file=sys.stderr)
    offset, page = 0, 5000
    while offset < total:
        got = ours.get(include=["documents", "metadatas", "embeddings"], limit=page,
                       offset=offset)
        given.next = np.asarray(got["embeddings"], np.float32).tolist()
        stock.add_texts(got["documents"], [{"source": m["source"]} for m in got["metadatas"]],
                        ids=got["ids"])
        bar.update(len(got["ids"]))
        offset += page
    bar.close()
    return {"chunks": total, "seconds": time.perf_counter() - started}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/out/scale"))
    parser.add_argument("--label", required=True)
    parser.add_argument("--chunks", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--store-only", action="store_true")
    parser.add_argument("--stock", action="store_true")
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    root = args.out / args.label
    marker = root / ("stock.json" if args.stock else "built.json")
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / f"{args.label}.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"  [{args.label}] waiting for another build of it", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        return build(args, root, marker)


def build(args: argparse.Namespace, root: Path, marker: Path) -> int:
    if args.fresh:
        marker.unlink(missing_ok=True)
        if not args.stock:
            shutil.rmtree(root, ignore_errors=True)
    if marker.exists():
        print(f"  [{args.label}] cached: {marker}", file=sys.stderr)
        return 0
    if args.stock:
        built = build_stock(args.out, args.label)
    elif args.store_only:
        built = build_store_only(args.out, args.label, args.chunks)
    else:
        built = build_pipeline(args.out, args.label, args.chunks, args.data_dir,
                               template=args.label == "template")
    built |= {"peak_rss_mb": peak_rss_mb(), "index_code": code_fingerprint(ROOT),
              "disk_mb": du_mb(root / ("stock" if args.stock else "data")),
              "has_lexical": (root / "data" / "lexical").exists(),
              "built_at": time.strftime("%Y-%m-%d %H:%M")}
    dump(marker, built)
    what = "stock LangChain copy" if args.stock else "collection"
    print(f"  [{args.label}] {what} built in {built['seconds']:.0f} s: "
          f"{built.get('chunks', 0):,} chunks", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
