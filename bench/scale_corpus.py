"""Texts, questions and the cached-embedding embedder shared by the benchmarks.

The texts are the shared evaluation data (never copied into the repository): the XQuAD and
SQuAD 2.0 articles, one document each, and the HotpotQA paragraphs, 20 to a document. A
collection of N chunks holds replicas of these documents, each with a one-line header naming
its copy, so that every file is distinct.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import Embedder, Vectors

DEFAULT_DATA = Path("../shared/data")


def source_texts(data_dir: Path = DEFAULT_DATA) -> list[tuple[str, str]]:
    """(name, text) of each source document, in a fixed order."""
    docs = []
    for name in ("xquad.en.json", "squad2-dev-small.json"):
        for i, art in enumerate(json.loads((data_dir / name).read_text())["data"]):
            docs.append((f"{Path(name).stem}-{i:02d}",
                         "\n\n".join(p["context"] for p in art["paragraphs"])))
    hotpot = json.loads((data_dir / "hotpot-dev-distractor-first100.json").read_text())
    paras = [f"{t}\n\n{''.join(s).strip()}" for r in hotpot
             for t, s in zip(r["context"]["title"], r["context"]["sentences"], strict=True)]
    for i in range(0, len(paras), 20):
        docs.append((f"hotpot-{i // 20:02d}", "\n\n".join(paras[i : i + 20])))
    return docs


def questions(data_dir: Path = DEFAULT_DATA, n: int = 100) -> list[str]:
    """``n`` XQuAD questions spread over all articles (every 7th), then SQuAD 2.0 ones."""
    qs = [qa["question"] for art in json.loads((data_dir / "xquad.en.json").read_text())["data"]
          for p in art["paragraphs"] for qa in p["qas"]][::7]
    if len(qs) < n:
        qs += [qa["question"] for art in
               json.loads((data_dir / "squad2-dev-small.json").read_text())["data"]
               for p in art["paragraphs"] for qa in p["qas"]][::3]
    return qs[:n]


def replica_text(copy: str, name: str, text: str) -> str:
    return f"{copy} of {name}.\n\n{text}"


def write_docs(folder: Path, docs: Sequence[tuple[str, str]], copy: str) -> int:
    """Write ``docs`` as .txt files under ``folder``, each with its copy header; characters."""
    folder.mkdir(parents=True, exist_ok=True)
    chars = 0
    for name, text in docs:
        body = replica_text(copy, name, text)
        path = folder / f"{name}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
        chars += len(body)
    return chars


def plan_replicas(docs: Sequence[tuple[str, str]], chunks_of: dict[str, int],
                  target: int) -> list[list[tuple[str, str]]]:
    """Replicas (lists of documents) whose chunks add up to about ``target``: whole copies of
    all documents, the last one cut at a document boundary."""
    replicas: list[list[tuple[str, str]]] = []
    total = 0
    while total < target:
        current: list[tuple[str, str]] = []
        for name, text in docs:
            if total >= target:
                break
            current.append((name, text))
            total += max(1, chunks_of.get(name, 1))
        replicas.append(current)
    return replicas


class ReplicaEmbedder(Embedder):
    """Embeds each distinct text once with the real model; a repeated text gets the cached
    vector moved by a tiny random perturbation (so the vector index holds no exact duplicates).
    The cache can be saved and loaded, so that reruns encode nothing twice."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 16,
                 cache_file: Path | None = None) -> None:
        super().__init__(model_path, batch_size)
        self.cache: dict[str, Vectors] = {}
        self.rng = np.random.default_rng(0)
        self.cache_file = cache_file
        self.encoded = 0
        if cache_file is not None and cache_file.exists():
            with np.load(cache_file, allow_pickle=False) as data:
                self.cache = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))

    def embed(self, texts: Sequence[str]) -> Vectors:
        new = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if new:
            self.encoded += len(new)
            for t, v in zip(new, super().embed(new), strict=True):
                self.cache[t] = v
        if not texts:
            return super().embed([])
        out = np.stack([self.cache[t] for t in texts])
        out = out + self.rng.normal(0, 0.003, out.shape).astype(np.float32)
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    def save(self) -> None:
        if self.cache_file is None or not self.cache:
            return
        texts = list(self.cache)
        tmp = self.cache_file.with_suffix(".tmp.npz")
        np.savez(tmp, texts=np.array(texts), vectors=np.stack([self.cache[t] for t in texts]))
        tmp.replace(self.cache_file)


def unit_vectors(rng: np.random.Generator, n: int, dim: int) -> Vectors:
    v = rng.standard_normal((n, dim), dtype=np.float32)
    out: Vectors = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def code_fingerprint(root: Path) -> str:
    """Hash of the indexing code, recorded with each cached collection."""
    h = hashlib.sha256()
    for path in sorted((root / "index").glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def du_mb(path: Path) -> float | None:
    """Allocated size of a folder, like ``du``, in MB (None when it does not exist); a file
    with several names (the lexical index's generations share files by hard links) counts
    once."""
    if not path.exists():
        return None
    seen: dict[tuple[int, int], int] = {}
    for d, _, fs in os.walk(path):
        for f in fs:
            st = (Path(d) / f).stat()
            seen[(st.st_dev, st.st_ino)] = st.st_blocks * 512
    return sum(seen.values()) / 1e6


def backend_of(embedder: Embedder) -> str:
    """The encoder backend the embedder loaded (``torch`` before backends existed)."""
    return str(getattr(embedder.model, "backend", "torch"))
