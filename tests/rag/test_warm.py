"""``Engine.warm``: what the chat loads at start, so its first question loads nothing."""

from pathlib import Path

import pytest

from index.embed import Embedder
from index.errors import CollectionNotFound, LexicalIndexMissing
from index.lexical import drop
from rag.pipeline import Engine
from rag.settings import Settings


def test_warm_opens_the_view_the_first_question_then_uses(tmp_path: Path,
                                                          embedder: Embedder) -> None:
    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    engine.index([Path("seeds")], "seed")
    fresh = Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    fresh.warm("seed", indexing=True)
    view = fresh.retriever("seed").view()
    answer = fresh.ask("How many Azerbaijanis became victims of landmine explosions?",
                       collection="seed")
    assert "282" in answer.text
    assert fresh.retriever("seed").view() is view  # opened once, at start
    with pytest.raises(CollectionNotFound):
        fresh.warm("nothere")
    with pytest.raises(CollectionNotFound):  # and nothing is made on the way
        fresh.warm("nothere", indexing=True)
    assert "nothere" not in fresh.collections()
    drop(engine.settings.lexical_dir, "seed")  # a data folder copied without it
    with pytest.raises(LexicalIndexMissing):
        Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder).warm("seed")
