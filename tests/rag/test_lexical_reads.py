"""Answering from the persisted lexical index: a new engine reads no chunk text from Chroma
(its hits' records come from the lexical index), and a collection without a current lexical
index is an error saying what to run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from index import lexical
from index.embed import Embedder
from index.errors import LexicalIndexMissing
from index.store import Store
from rag.pipeline import Engine
from rag.settings import Settings

NAME = "towns"
PLACES = ("Arlo Brisk Calder Dunmore Elsby Fenwick Garrow Halden Ivel Jarrow Kestle Lorne "
          "Marden Norby Orwell Pellow Quarry Rudd Selby Tarn").split()


def corpus(folder: Path) -> None:
    """40 short documents, one chunk each, each with its own words."""
    folder.mkdir()
    for i in range(40):
        place = PLACES[i % len(PLACES)] + ("" if i < len(PLACES) else "ton")
        text = (f"{place} is a market town with {100 + 37 * i} houses. "
                f"The {place} fair is held every spring beside the river.")
        (folder / f"{place.lower()}.txt").write_text(text, encoding="utf-8")


class Counting:
    """The chunk collection, counting the chunk texts each read returns."""

    def __init__(self, col: Any, counts: list[int]) -> None:
        self._col, self._counts = col, counts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._col, name)

    def get(self, **kwargs: Any) -> Any:
        got = self._col.get(**kwargs)
        self._counts.append(len(got.get("documents") or []))
        return got

    def query(self, **kwargs: Any) -> Any:
        got = self._col.query(**kwargs)
        self._counts.append(sum(len(d) for d in got.get("documents") or []))
        return got


def test_a_new_engine_reads_only_its_hits_chunk_texts(tmp_path: Path, embedder: Embedder,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    corpus(docs)
    settings = Settings(data_dir=tmp_path / "data")
    Engine(settings, embedder=embedder).index([docs], NAME, base=tmp_path)

    counts: list[int] = []
    asked: set[str] = set()
    col = Store.col

    def counting(self: Store, suffix: str = "") -> Any:
        asked.add(suffix)
        found = col(self, suffix)
        return Counting(found, counts) if suffix == "" else found

    monkeypatch.setattr(Store, "col", counting)
    fresh = Engine(settings, embedder=embedder)  # nothing loaded: as a new process
    answer = fresh.ask("How many houses does Fenwick have?", collection=NAME)
    assert "285" in answer.text and answer.citations
    assert Store(fresh.client, NAME).count() == 40
    # Chroma's chunk collection was asked (the dense query) but returned no text: the hits'
    # records come from the lexical index's store, for the hits only, with their sentences'
    # vectors: Chroma holds no collection of sentences to ask (and a text file's document
    # record, read for a PDF's pages, is not asked for)
    assert counts and sum(counts) == 0, counts
    assert asked == {""}, asked


def test_a_question_on_a_stale_lexical_index_says_to_repair(tmp_path: Path,
                                                            embedder: Embedder) -> None:
    docs = tmp_path / "docs"
    corpus(docs)
    settings = Settings(data_dir=tmp_path / "data")
    Engine(settings, embedder=embedder).index([docs], NAME, base=tmp_path)
    lexical.drop(settings.lexical_dir, NAME)

    engine = Engine(settings, embedder=embedder)
    with pytest.raises(LexicalIndexMissing, match=r"rag index --repair --collection towns"):
        engine.ask("How many houses does Fenwick have?", collection=NAME)
    assert not (settings.lexical_dir / NAME).exists()  # never rebuilt on a question
    assert engine.repair(NAME)
    assert "285" in engine.ask("How many houses does Fenwick have?", collection=NAME).text
