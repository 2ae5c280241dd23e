"""The ``rag`` command's terminal output: document text never drives the terminal."""

from __future__ import annotations

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
