"""The ``rag`` command's terminal output: document text never drives the terminal."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag.cli import main, terminal_text


def test_terminal_text_strips_controls_and_keeps_line_breaks() -> None:
    raw = "Clear\x1b[2J the \x1b]0;owned\x07screen\x9b31m,\u202egnp.exe\ttab\nnext"
    assert terminal_text(raw) == "Clear[2J the ]0;ownedscreen31m,gnp.exe\ttab\nnext"
    assert terminal_text("lone \udc80") == "lone \\udc80"


def test_ask_prints_document_text_without_escape_sequences(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evil\x1b[8m.txt").write_text(
        "The Zorblax bridge was completed in 1987.\x1b[2J\x1b]0;pwned\x07 It has two lanes.")
    assert main(["index", str(docs), "--collection", "evil", "--quiet"]) == 0
    assert main(["ask", "When was the Zorblax bridge completed?", "--collection", "evil"]) == 0
    out = capsys.readouterr()
    assert "1987" in out.out
    assert "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err


def test_a_bad_setting_is_our_error_naming_the_variable(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MAX_FILE_MB", "abc")
    assert main(["collections"]) == 2
    err = capsys.readouterr().err
    assert "RAG_MAX_FILE_MB='abc'" in err and "Traceback" not in err


def test_eval_checks_its_out_folder_and_dataset_before_running(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["eval", "--dataset", "seed", "--limit", "1", "--no-baseline", "--quiet",
                 "--out", str(blocker / "report")]) == 2
    assert "cannot write the --out folder" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"title": "x", "paragraphs": [{"qas": 1}]}]}')
    assert main(["eval", "--dataset", str(bad), "--no-baseline", "--quiet",
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "malformed" in err and "Traceback" not in err


def test_index_repair_rebuilds_a_missing_lexical_index(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "canal.txt").write_text("The Brenmoor canal has 31 locks. Barges use it in summer.")
    assert main(["index", str(docs), "--collection", "canal", "--quiet"]) == 0
    lexical = Path(os.environ["RAG_DATA_DIR"]) / "lexical" / "canal"
    shutil.rmtree(lexical)
    capsys.readouterr()
    assert main(["ask", "How many locks does the Brenmoor canal have?", "--collection",
                 "canal"]) == 2
    assert "rag index --repair --collection canal" in capsys.readouterr().err
    assert main(["index", "--repair", "--collection", "canal", "--quiet"]) == 0
    assert "canal: lexical index rebuilt" in capsys.readouterr().out
    assert main(["ask", "How many locks does the Brenmoor canal have?", "--collection",
                 "canal"]) == 0
    assert "31" in capsys.readouterr().out
    assert main(["index", "--repair", "--collection", "canal", "--quiet"]) == 0
    assert "already current" in capsys.readouterr().out


def test_a_collection_an_older_version_wrote_says_to_rebuild_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A question or a run over a collection an older version wrote (its state names no
    format) gets an error naming the fix; `rag index --rebuild` makes it answer again."""
    from index.settings import IndexSettings
    from index.store import DOCS, Store, open_client

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "canal.txt").write_text("The Brenmoor canal has 31 locks. Barges use it in summer.")
    assert main(["index", str(docs), "--collection", "canal", "--quiet"]) == 0
    store = Store(open_client(IndexSettings(data_dir=Path(os.environ["RAG_DATA_DIR"]))),
                  "canal")
    state = store.state()
    store.col(DOCS).modify(metadata={k: v for k, v in state.items() if k != "format"})
    capsys.readouterr()
    question = ["ask", "How many locks does the Brenmoor canal have?", "--collection", "canal"]
    for command in (question, ["index", str(docs), "--collection", "canal", "--quiet"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "older version" in err and "--rebuild --collection canal" in err
    assert main(["index", str(docs), "--collection", "canal", "--rebuild", "--quiet"]) == 0
    capsys.readouterr()
    assert main(question) == 0
    assert "31" in capsys.readouterr().out
