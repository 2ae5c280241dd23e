"""The records of a document version (its chunks, which hold its sentences, and its document
record): how they are encoded into the store's metadata and the lexical index, and decoded back.

Chunk and sentence ids are content-addressed (source, content hash, position, text), so a new
version never overwrites the records of the old one, and an id that is already stored holds the
same record. The document record's id names the generation it belongs to (see
:mod:`index.versions`).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.docrecord import NEVER
from index.embed import Vectors
from index.types import Chunk, ChunkRecord, Document, Sentence, SentenceRecord

PREV_CHARS = 300
"""Each sentence record keeps the end of the sentence before it: what "he" or "it" refers to."""


@dataclass(frozen=True)
class Prepared:
    """A document cut into sentences and chunks, waiting for its vectors."""

    doc: Document
    sentences: list[Sentence]
    chunks: list[Chunk]
    root: str = ""
    """The folder its source is named relative to (see :meth:`index.load.SourceNames.locate`)."""


@dataclass
class Records:
    """Columns of records for one collection, in the order they are written."""

    ids: list[str] = field(default_factory=list)
    vectors: list[Vectors] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    packed: list[bytes] = field(default_factory=list)
    """Chunks only: the vectors of each chunk's sentences (:func:`pack_vectors`), which the
    lexical index stores beside the chunk's record."""

    def add(self, id_: str, vector: Vectors, text: str, meta: dict[str, Any],
            packed: bytes = b"") -> None:
        self.ids.append(id_)
        self.vectors.append(vector)
        self.texts.append(text)
        self.metas.append(meta)
        self.packed.append(packed)

    def matrix(self) -> Vectors:
        out: Vectors = np.stack(self.vectors)
        return out


def stable_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:40]


def add_document(item: Prepared, vectors: Vectors, generation: int, chunks: Records,
                 docs: Records) -> None:
    """Append the records of one document version, given its sentence vectors in order. A
    sentence has no record of its own: its chunks hold its text, offsets and vector."""
    doc, sha, source = item.doc, item.doc.sha256, item.doc.source
    sents = item.sentences
    # the content hash is part of each id: a new version never overwrites the old one's records
    sent_ids = [stable_id("s", source, sha, s.index, s.text) for s in sents]
    for c in item.chunks:  # consecutive sentences: a slice of the vectors
        first = c.sentences[0].index
        rows = vectors[first : c.sentences[-1].index + 1]
        chunks.add(stable_id("c", source, sha, c.index, c.text), mean_vector(rows), c.text, {
            "source": source, "doc_sha": sha, "index": c.index, "start": c.start, "end": c.end,
            "sentence_ids": ",".join(sent_ids[s.index] for s in c.sentences),
            # enough to read each sentence's record out of the chunk (see chunk_record)
            "first": first, "spans": spans_of(c),
            "prev": sents[first - 1].text[-PREV_CHARS:] if first else ""}, pack_vectors(rows))
    # one record per version: the committed one stays beside it until the switch
    docs.add(stable_id("d", source, generation), mean_vector(vectors), doc.text, {
        "source": source, "doc_sha": sha, "kind": doc.kind,
        "sentences": len(sents), "chunks": len(item.chunks),
        "indexed_at": time.time(), "pages": json.dumps(list(doc.pages)),
        "generation": generation, "gone": NEVER, "dirs": folders_of(source), "root": item.root})


def folders_of(source: str) -> list[str]:
    """The folders a source lies in: ``[".", "a", "a/b"]`` for ``a/b/c.txt`` (a run over a
    folder finds the documents it may have to remove by these)."""
    parts = source.split("/")[:-1]
    return [".", *("/".join(parts[:i]) for i in range(1, len(parts) + 1))]


def spans_of(chunk: Chunk) -> str:
    """Each sentence's offsets in the chunk's text: ``"0:52,53:140"``."""
    return ",".join(f"{s.start - chunk.start}:{s.end - chunk.start}" for s in chunk.sentences)


def pack_vectors(rows: Vectors) -> bytes:
    """Sentence vectors as stored: float16, row after row (a unit vector's cosine moves by
    about 1e-4; half the bytes of float32)."""
    return np.ascontiguousarray(rows, dtype=np.float16).tobytes()


def unpack_vectors(packed: bytes, n: int) -> Vectors:
    """The ``n`` rows :func:`pack_vectors` stored, as float32."""
    if not packed or not n:
        return np.zeros((n, 0), dtype=np.float32)
    out: Vectors = np.frombuffer(packed, dtype=np.float16).reshape(n, -1).astype(np.float32)
    return out


def chunk_record(id_: str, text: str, meta: dict[str, Any], packed: bytes = b"") -> ChunkRecord:
    """A stored chunk, decoded from its text and metadata, with the records of the sentences it
    holds (and their vectors, when ``packed`` holds them)."""
    source, sha = str(meta["source"]), str(meta["doc_sha"])
    ids = tuple(str(meta["sentence_ids"]).split(","))
    first, start, prev = int(meta["first"]), int(meta["start"]), str(meta["prev"])
    sentences = []
    for i, (sid, span) in enumerate(zip(ids, str(meta["spans"]).split(","), strict=True)):
        a, b = (int(x) for x in span.split(":"))
        sentence = text[a:b]
        sentences.append(SentenceRecord(source, first + i, start + a, start + b, sentence,
                                        sid, sha, prev))
        prev = sentence[-PREV_CHARS:]
    return ChunkRecord(id_, source, sha, text, ids, tuple(sentences),
                       unpack_vectors(packed, len(ids)))


def mean_vector(vectors: Vectors) -> Vectors:
    """The normalized mean: a chunk's (or a document's) vector from its sentences'."""
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    out: Vectors = (mean / norm if norm > 0 else mean).astype(np.float32)
    return out
