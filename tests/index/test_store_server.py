"""The same store contract against embedded Chroma and a real Chroma server on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.build import Indexer
from index.embed import Embedder
from index.offline import OFFLINE_ENV
from index.settings import IndexSettings
from index.store import DOCS, Store
from rag.pipeline import Engine
from rag.settings import Settings
from tests.conftest import free_port

CHROMA = Path(sys.executable).with_name("chroma")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.skip(f"no chroma command at {CHROMA}")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(folder), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the Chroma server did not start within 60 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(params=["embedded", "server"])
def settings_for(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return Settings(data_dir=tmp_path / "data", chroma_url=url,
                        collection=f"seed-{tmp_path.name[-20:].strip('_-')}x")
    return Settings(data_dir=tmp_path / "data")


def test_index_and_ask_through_either_store(settings_for: Settings, embedder: Embedder,
                                            tmp_path: Path) -> None:
    name = settings_for.collection
    indexer = Indexer(IndexSettings(**settings_for.model_dump(
        include=set(IndexSettings.model_fields))), embedder)
    first = indexer.build([Path("seeds")], name)
    assert first.indexed == 1
    store = Store(indexer.client, name)
    counts = (store.count(), store.count(DOCS))
    assert indexer.build([Path("seeds")], name).unchanged == 1
    assert (store.count(), store.count(DOCS)) == counts
    engine = Engine(settings_for, embedder=embedder)
    answer = engine.ask("How many Azerbaijanis became victims of landmine explosions?")
    assert "282" in answer.text
    c = answer.citations[0]
    assert Path(c.source).read_text(encoding="utf-8")[c.start : c.end] == c.text


def ask_in_two_processes(url: str, data: Path, name: str, question: str) -> list[Any]:
    """``rag ask --json`` in two processes at once, over the Chroma server and the shared data
    folder (where the lexical index lives)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_CHROMA_URL": url, "RAG_DATA_DIR": str(data), **OFFLINE_ENV}
    procs = [subprocess.Popen([sys.executable, "-m", "rag.cli", "ask", question,
                               "--collection", name, "--json"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        out.append(json.loads(stdout))
    return out


def test_two_app_processes_over_one_server_give_the_same_answers(
        chroma_server: str, embedder: Embedder, tmp_path: Path) -> None:
    """The indexer and two app processes share the server and RAG_DATA_DIR: both answer from
    the persisted lexical index, alike, before and after a re-index."""
    docs, data, name = tmp_path / "docs", tmp_path / "shared-data", "two-apps"
    docs.mkdir()
    (docs / "ferry.txt").write_text("The Lindell ferry crosses the strait in 40 minutes. "
                                    "It carries 300 passengers.", encoding="utf-8")
    settings = IndexSettings(data_dir=data, chroma_url=chroma_server)
    Indexer(settings, embedder).build([docs], name, base=tmp_path)
    question = "How long does the Lindell ferry take to cross the strait?"
    first = ask_in_two_processes(chroma_server, data, name, question)
    assert first[0] == first[1] and "40 minutes" in first[0]["citations"][0]["text"]

    (docs / "ferry.txt").write_text("The Lindell ferry crosses the strait in 25 minutes since "
                                    "2024. It carries 300 passengers.", encoding="utf-8")
    Indexer(settings, embedder).build([docs], name, base=tmp_path)
    second = ask_in_two_processes(chroma_server, data, name, question)
    assert second[0] == second[1] and "25 minutes" in second[0]["citations"][0]["text"]


def test_remove_and_delete_through_either_store(settings_for: Settings, embedder: Embedder,
                                                tmp_path: Path) -> None:
    from rag import library

    name = settings_for.collection
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "mill.txt").write_text("The Brimstone mill was built in 1842.\n")
    (folder / "ferry.txt").write_text("The Ostra ferry carries forty passengers.\n")
    engine = Engine(settings_for, embedder=embedder)
    engine.index([folder], name, base=folder)
    store = Store(engine.client, name)
    report = library.remove(engine, ["mill.txt"], name)
    assert report.removed == ("mill.txt",) and set(store.docs()) == {"ferry.txt"}
    assert (store.count(), store.count(DOCS)) == (1, 1)
    answer = engine.ask("When was the Brimstone mill built?", collection=name)
    assert "mill.txt" not in {c.source for c in answer.candidates}
    assert library.delete(engine, name) == 1
    assert name not in engine.collections()
    assert library.create(engine, name) and engine.documents(name) == []
