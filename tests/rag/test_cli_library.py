"""``rag remove``, ``rag collections --delete`` and ``rag chat --save`` on a real index."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from index.embed import Embedder
from rag import library
from rag.cli import main
from rag.pipeline import Engine
from rag.settings import Settings

MILL = "The Brimstone mill was built in 1842 beside the Ostra river.\n"
FERRY = "The Ostra ferry carries forty passengers across the river every hour.\n"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "old").mkdir(parents=True)
    (folder / "mill.txt").write_text(MILL)
    (folder / "ferry.txt").write_text(FERRY)
    (folder / "old" / "a.txt").write_text("The old tannery closed in 1901.\n")
    (folder / "old" / "b.txt").write_text("The old granary burned in 1911.\n")
    assert main(["index", str(folder), "--collection", "town", "--quiet"]) == 0
    return folder


def _sources(capsys: pytest.CaptureFixture[str]) -> set[str]:
    capsys.readouterr()
    engine = Engine(Settings())
    return {d["source"] for d in engine.documents("town")}


def test_remove_takes_files_folders_and_stored_names(
        docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _sources(capsys) == {"mill.txt", "ferry.txt", "old/a.txt", "old/b.txt"}
    assert main(["remove", str(docs / "mill.txt"), "--collection", "town"]) == 0
    out = capsys.readouterr().out
    assert "town: 1 document removed" in out and "removed mill.txt" in out
    assert _sources(capsys) == {"ferry.txt", "old/a.txt", "old/b.txt"}
    assert main(["ask", "When was the Brimstone mill built?", "--collection", "town",
                 "--json"]) == 0
    assert "mill.txt" not in capsys.readouterr().out  # never cited again
    assert main(["remove", str(docs / "old"), "ferry.txt", "--collection", "town"]) == 0
    assert "3 documents removed" in capsys.readouterr().out
    assert _sources(capsys) == set()
    # the files stay on disk; only the index forgets them
    assert (docs / "mill.txt").exists() and (docs / "old" / "a.txt").exists()


def test_remove_says_which_names_match_nothing(
        docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remove", "nowhere.txt", "--collection", "town"]) == 1
    out = capsys.readouterr().out
    assert "0 documents removed" in out and "not in the collection: nowhere.txt" in out
    assert main(["remove", "mill.txt", "--collection", "no-such"]) == 2
    assert "collection 'no-such' does not exist" in capsys.readouterr().err


def test_a_removed_file_that_is_gone_from_disk_is_removed_too(
        docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (docs / "mill.txt").unlink()
    assert main(["remove", str(docs / "mill.txt"), "--collection", "town"]) == 0
    assert "removed mill.txt" in capsys.readouterr().out


def test_collections_delete(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(docs / "ferry.txt"), "--collection", "other", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["collections", "--delete", "town"]) == 0
    assert "deleted the collection town (4 documents)" in capsys.readouterr().out
    assert main(["collections"]) == 0
    assert capsys.readouterr().out.split() == ["other"]
    assert main(["ask", "When was the Brimstone mill built?", "--collection", "town"]) == 2
    assert "collection 'town' does not exist" in capsys.readouterr().err
    assert main(["collections", "--delete", "town"]) == 2
    assert "does not exist" in capsys.readouterr().err
    # the name can be used again
    assert main(["index", str(docs / "mill.txt"), "--collection", "town", "--quiet"]) == 0
    assert main(["ask", "When was the Brimstone mill built?", "--collection", "town"]) == 0
    assert "1842" in capsys.readouterr().out


def test_chat_save_writes_the_conversation_as_markdown(
        docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "out" / "talk.md"
    saved.parent.mkdir()
    monkeypatch.setattr("sys.stdin", io.StringIO(
        "When was the Brimstone mill built?\nWhat is the weather on Mars?\n"))
    assert main(["chat", "--collection", "town", "--save", str(saved)]) == 0
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# Conversation\n\nCollection: “town”.")
    assert "## 1. When was the Brimstone mill built?" in text
    assert "**1842**" in text and "[1] `mill.txt`, characters 0–" in text
    assert f"  > {MILL.strip()}" in text
    assert "## 2. What is the weather on Mars?" in text and "The documents don't say." in text
    assert not list(saved.parent.glob(".*.part"))
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert main(["chat", "--collection", "town", "--save", str(blocked / "x.md")]) == 2
    assert "cannot write the --save folder" in capsys.readouterr().err


def test_questions_asked_while_documents_are_removed_see_them_whole_or_not(
        tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(30):
        (folder / f"mill-{i:02}.txt").write_text(
            f"The Brimstone mill number {i} was built in {1800 + i}. " * 3 + "\n")
    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder)
    engine.index([folder], "mills", base=folder)
    seen: list[set[str]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            try:
                answer = engine.ask("When was a Brimstone mill built?", collection="mills")
                seen.append({c.source for c in answer.candidates})
            except BaseException as exc:
                errors.append(exc)
                return

    worker = threading.Thread(target=ask)
    worker.start()
    report = library.remove(engine, [f"mill-{i:02}.txt" for i in range(0, 30, 2)], "mills")
    done.set()
    worker.join(60)
    assert errors == [] and seen and len(report.removed) == 15  # no question failed
    removed = set(report.removed)
    after = engine.ask("When was a Brimstone mill built?", collection="mills")
    assert not removed & {c.source for c in after.candidates}
    assert len(engine.documents("mills")) == 15
