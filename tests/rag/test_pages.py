"""A PDF citation names its page: in the Answer, in ``rag ask --json`` and the text output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag.view
from index.docrecord import DocRecord, page_bounds
from index.embed import Embedder
from index.load import has_pages
from index.store import Store
from rag.cli import main
from rag.pipeline import Engine
from rag.settings import Settings

PAGES = [
    ["The Oskarvik lighthouse annual report covers the harbour district."],
    ["The harbour master inspected twelve vessels in March."],
    ["The Oskarvik lighthouse was repainted red in 1998.", "Its lamp is visible from 30 km."],
]


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for lines in pages:
        for i, line in enumerate(lines):
            c.drawString(72, 720 - 20 * i, line)
        c.showPage()
    c.save()
    return path


@pytest.fixture
def pdf_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    make_pdf(folder / "report.pdf", PAGES)
    (folder / "notes.txt").write_text("The harbour ferry leaves every hour from pier four.\n")
    return folder


def test_a_pdf_citation_names_its_page(pdf_folder: Path, embedder: Embedder,
                                       settings: Settings) -> None:
    engine = Engine(settings, embedder)
    engine.index([pdf_folder], "pages", base=pdf_folder)
    answer = engine.ask("When was the Oskarvik lighthouse repainted?", collection="pages")
    assert not answer.refused
    first = answer.citations[0]
    assert first.source == "report.pdf" and first.page == 3
    assert first.where == "report.pdf, p. 3"
    found = engine.document("report.pdf", "pages")
    assert found is not None
    text, starts = found
    assert len(starts) == 3 and text[first.start:first.end] == first.text
    bounds = page_bounds(starts, 3, len(text))
    assert bounds is not None and bounds[0] <= first.start < first.end <= bounds[1]
    assert "repainted red" in text[bounds[0]:bounds[1]]
    assert "twelve vessels" not in text[bounds[0]:bounds[1]]
    other = engine.ask("How often does the harbour ferry leave?", collection="pages")
    assert other.citations[0].source == "notes.txt" and other.citations[0].page is None
    assert other.citations[0].where == "notes.txt"


def test_ask_json_and_text_carry_the_page(pdf_folder: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(pdf_folder), "--collection", "pages", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["ask", "When was the Oskarvik lighthouse repainted?", "--collection", "pages",
                 "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    cited = got["citations"][0]
    assert set(cited) == {"n", "source", "page", "start", "end", "text", "score"}
    assert cited["page"] == 3 and cited["source"] == "report.pdf"
    assert main(["ask", "When was the Oskarvik lighthouse repainted?", "--collection",
                 "pages"]) == 0
    assert "[1] report.pdf, p. 3 (characters" in capsys.readouterr().out


def test_page_bounds_leave_out_the_blank_line_between_pages() -> None:
    text = "one\n\ntwo\n\nthree"
    starts = (0, 5, 10)
    assert [text[slice(*page_bounds(starts, p, len(text)) or (0, 0))] for p in (1, 2, 3)] == \
        ["one", "two", "three"]
    assert page_bounds(starts, 4, len(text)) is None and page_bounds((), 1, 3) is None


def test_only_citations_of_documents_with_pages_read_a_document_record(
        pdf_folder: Path, embedder: Embedder, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(settings, embedder)
    engine.index([pdf_folder], "pages", base=pdf_folder)
    read: list[list[str]] = []
    named = rag.view.doc_records_named

    def counting(store: Store, sources: list[str]) -> list[DocRecord]:
        read.append(list(sources))
        return named(store, sources)

    monkeypatch.setattr(rag.view, "doc_records_named", counting)
    fresh = Engine(settings, embedder)
    text = fresh.ask("How often does the harbour ferry leave?", collection="pages")
    assert text.citations and all(c.source == "notes.txt" for c in text.citations)
    assert read == []  # a text file has no pages: its record is not read
    pdf = fresh.ask("When was the Oskarvik lighthouse repainted?", collection="pages")
    assert pdf.citations[0].page == 3
    assert ["report.pdf"] in read


def test_pages_come_with_pdf_names_only() -> None:
    assert has_pages("docs/Report.PDF") and has_pages("report.pdf")
    assert not has_pages("notes.txt") and not has_pages("pdf") and not has_pages("a.pdf/b.md")
