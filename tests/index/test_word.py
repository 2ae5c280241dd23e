"""Word documents: paragraphs, headings and tables as text, bad files skipped with a reason."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from index.build import Indexer
from index.embed import Embedder
from index.errors import SkippedFile
from index.load import load_file
from index.records import chunk_record
from index.store import Store
from rag.settings import Settings

MB = 1_000_000


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Harbour report", 0)
    document.add_heading("Bridges", 1)
    document.add_paragraph("The Vellmar bridge opened in 1931. It has   four lanes.")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Bridge", (0, 1): "Length", (1, 0): "Vellmar",
                             (1, 1): "410 m"}.items():
        table.cell(row, col).text = text
    document.add_paragraph("The ferry runs hourly.")
    document.save(str(path))
    return path


def test_docx_keeps_headings_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    doc = load_file(make_docx(tmp_path / "r.docx"), "r.docx", MB)
    assert doc.kind == "docx"
    assert doc.text == ("# Harbour report\n\n## Bridges\n\nThe Vellmar bridge opened in 1931. "
                        "It has four lanes.\n\nBridge | Length\nVellmar | 410 m\n\n"
                        "The ferry runs hourly.")


def _zip(path: Path, files: dict[str, str]) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in files.items():
            package.writestr(name, text)
    return path.read_bytes()


@pytest.mark.parametrize(("content", "reason"), [
    (b"PK\x03\x04 not really a zip", "is not a Word document"),
    (b"\xd0\xcf\x11\xe0 an old binary .doc renamed", "is not a Word document"),
    ({"hello.txt": "hello"}, "is not a readable Word document"),
    ({"[Content_Types].xml": "<Types", "word/document.xml": "<w:document"},
     "is not a readable Word document"),
    ({"x.txt": "a" * 50_000_000}, "unpacks to 50 MB"),
])
def test_bad_docx_is_skipped_with_a_reason(tmp_path: Path, content: bytes | dict[str, str],
                                           reason: str) -> None:
    f = tmp_path / "bad.docx"
    if isinstance(content, dict):
        _zip(f, content)
    else:
        f.write_bytes(content)
    with pytest.raises(SkippedFile) as err:
        load_file(f, "bad.docx", MB)
    assert reason in str(err.value) and "bad.docx" in str(err.value)


def test_docx_offsets_point_into_the_stored_text(tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    make_docx(folder / "r.docx")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 broken")
    settings = Settings(data_dir=tmp_path / "data")
    report = Indexer(settings, embedder).build([folder], "word", base=folder)
    assert report.indexed == 1
    assert [p for p, _ in report.skipped] == ["broken.docx"]
    assert "is not a Word document" in report.skipped[0][1]
    store = Store(Indexer(settings, embedder).client, "word")
    text = store.doc_text("r.docx")
    assert text is not None
    got = store.col("").get(include=["documents", "metadatas"])
    sentences = [s for i, t, m in zip(got["ids"], got["documents"], got["metadatas"],
                                      strict=True)
                 for s in chunk_record(i, t, dict(m)).sentences]
    assert sentences
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text
    assert any("Vellmar | 410 m" in s.text for s in sentences)
