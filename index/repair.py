"""Rebuilding a collection's lexical index from Chroma (``rag index --repair``, and the first
step of any indexing run): once, under the collection's lock, never on a question.

Chroma holds each chunk's text and metadata (where its sentences lie in it) but not its
sentences' vectors, so they are encoded again: a repair costs about what indexing the text
costs, with a progress bar (and the run's progress callback, e.g. the chat's upload status).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.docrecord import Snapshot
from index.errors import LexicalIndexMissing
from index.lexical import Embed, LexicalWriter, folder_of, is_current
from index.records import chunk_record, pack_vectors
from index.store import Store

_PAGE = 5_000
Told = Callable[[float, str], None]
"""Told the share of the repair done (0 to 1) and what it does."""


def encoded(texts: Sequence[str], metas: Sequence[dict[str, Any]], embed: Embed) -> list[bytes]:
    """The packed sentence vectors of chunks read back from Chroma, encoded again (each
    sentence once, however many chunks hold it)."""
    records = [chunk_record("", text, meta) for text, meta in zip(texts, metas, strict=True)]
    unique = {s.id: s.text for r in records for s in r.sentences}
    rows = dict(zip(unique, embed(list(unique.values())), strict=True)) if unique else {}
    return [pack_vectors(np.stack([rows[s.id] for s in r.sentences])) for r in records]


def repair_lexical(store: Store, root: Path, embed: Embed | None, progress: bool = False,
                   told: Told | None = None) -> bool:
    """Rebuild the committed state's lexical index from Chroma when it is missing or older than
    the vectors (under the collection's lock), encoding the sentences with ``embed``; whether
    it had to. Without ``embed`` (a run that only removes) a missing index is an error that
    says what to run."""
    version, generation = store.committed()
    if is_current(root, store.name, version, generation):
        return False
    if embed is None:
        raise LexicalIndexMissing(store.name, folder_of(root, store.name, generation))
    rebuild(store, store.snapshot(), root, embed, progress, told)
    return True


def rebuild(store: Store, snapshot: Snapshot, root: Path, embed: Embed, progress: bool,
            told: Told | None = None) -> None:
    """Write the lexical index of the committed state ``snapshot`` from the chunk records of
    ``store``, encoding their sentences with ``embed``, with a progress bar when
    ``progress``."""
    from tqdm import tqdm

    name, total = store.name, store.count("")
    out = LexicalWriter.fresh(root, name, snapshot.generation)
    bar = tqdm(total=total, desc=f"lexical index of {name}", unit="chunk", file=sys.stderr,
               disable=not progress, leave=False)
    done = 0
    if told is not None:
        told(0.0, f"rebuilding the lexical index of {name} (once): 0 of {total:,} chunks")
    for got in store.pages("", ["documents", "metadatas"], size=_PAGE):
        rows = [(i, t, dict(m)) for i, t, m in zip(got["ids"], got["documents"],
                                                   got["metadatas"], strict=True)
                if m and snapshot.owns(m)]
        texts, metas = [r[1] for r in rows], [r[2] for r in rows]
        out.add([r[0] for r in rows], texts, metas, encoded(texts, metas, embed))
        bar.update(len(got["ids"]))
        done += len(got["ids"])
        if told is not None and done < total:
            told(done / total, f"rebuilding the lexical index of {name} (once): "
                               f"{done:,} of {total:,} chunks")
    bar.close()
    out.commit(snapshot.version)
