"""The chat in a real browser (Debian chromium through Playwright): PDF pages, Word uploads,
removing documents, creating and deleting collections, copying and downloading answers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.index.test_word import make_docx
from tests.rag.test_pages import PAGES, make_pdf
from tests.ui.test_browser import LONG, _ask

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _patient() -> Iterator[None]:
    """Each step may wait for the server a while: the machine may be busy."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default


def _create(page: Any, name: str) -> None:
    """Create the collection ``name`` and switch to it."""
    page.locator("#new-collection textarea, #new-collection input").first.fill(name)
    page.locator("#create-collection").click()
    expect(page.locator("#upload-status")).to_contain_text(f"Created the collection “{name}”",
                                                           timeout=LONG)
    expect(page.locator("#documents")).to_contain_text(f"No documents in “{name}”",
                                                       timeout=LONG)
    expect(page.locator("#status-line")).to_contain_text(f"Collection “{name}”")


def _upload(page: Any, *paths: Path) -> None:
    page.locator("#upload input[type=file]").set_input_files([str(p) for p in paths])
    for path in paths:
        expect(page.locator("#upload-status li.ok", has_text=path.name)).to_be_visible(
            timeout=LONG)


def _pick_document(page: Any, source: str) -> None:
    page.locator("#doc-pick input").click()
    page.locator("[role=option]", has_text=source).click()
    expect(page.locator("#doc-pick input")).to_have_value(source)


def test_a_pdf_citation_shows_its_page_in_the_answer_and_the_source_view(
        page: Any, shoot: Any, tmp_path: Path) -> None:
    page, watch = page
    _create(page, "pdf-pages")
    _upload(page, make_pdf(tmp_path / "report.pdf", PAGES))
    expect(page.locator("#status-line")).to_contain_text("1 document")
    answer = _ask(page, "When was the Oskarvik lighthouse repainted?")
    expect(answer.locator(".answer-text")).to_contain_text("1998")
    head = answer.locator(".citation .citation-head").first
    expect(head).to_contain_text("report.pdf, p. 3")
    expect(head.locator(".page")).to_have_text("p. 3")
    answer.locator(".citation").first.click()
    doc = page.locator("#viewer .document")
    expect(doc.locator(".doc-head .page")).to_have_text("page 3 of 3")
    expect(doc.locator("#cited-span")).to_contain_text("repainted red in 1998")
    expect(doc.locator("#cited-span")).to_be_in_viewport()
    expect(doc.locator(".doc-text")).to_contain_text("Its lamp is visible from 30 km.")
    expect(doc.locator(".doc-text")).not_to_contain_text("twelve vessels")  # page 2
    expect(doc).to_contain_text("the 2 page(s) before are not shown")
    path = shoot(page, "ui-pdf-page")
    if os.environ.get("UPDATE_SCREENSHOT"):
        shutil.copyfile(path, ROOT / "docs" / "pdf-page.png")
    assert watch.errors == []


def test_a_docx_upload_is_answered_with_a_citation(page: Any, tmp_path: Path) -> None:
    page, watch = page
    _create(page, "word-docs")
    _upload(page, make_docx(tmp_path / "harbour.docx"))
    expect(page.locator("#documents")).to_contain_text("harbour.docx")
    answer = _ask(page, "When did the Vellmar bridge open?")
    expect(answer.locator(".answer-text")).to_contain_text("1931")
    citation = answer.locator(".citation").first
    expect(citation.locator(".source")).to_have_text("harbour.docx")
    expect(citation.locator(".page")).to_have_count(0)  # pages are for PDFs
    expect(citation.locator("mark.cited")).to_contain_text("The Vellmar bridge opened in 1931.")
    # a broken .docx is refused with its reason
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 not a package")
    page.locator("#upload input[type=file]").set_input_files(str(broken))
    expect(page.locator("#upload-status li.error")).to_contain_text(
        "broken.docx: is not a Word document", timeout=LONG)
    assert watch.errors == []


def test_a_removed_document_is_no_longer_cited(page: Any, shoot: Any, tmp_path: Path) -> None:
    page, watch = page
    _create(page, "remove-docs")
    mill, ferry = tmp_path / "mill.txt", tmp_path / "ferry.txt"
    mill.write_text("The Brimstone mill was built in 1842 beside the Ostra river.\n")
    ferry.write_text("The Ostra ferry carries forty passengers across the river.\n")
    _upload(page, mill, ferry)
    expect(page.locator("#status-line")).to_contain_text("2 documents")
    answer = _ask(page, "When was the Brimstone mill built?")
    expect(answer.locator(".citation .source").first).to_have_text("mill.txt")
    _pick_document(page, "mill.txt")
    page.locator("#remove-doc").click()
    expect(page.locator("#upload-status")).to_contain_text(
        "Removed mill.txt from “remove-docs”")
    expect(page.locator("#documents")).not_to_contain_text("mill.txt")
    expect(page.locator("#documents")).to_contain_text("ferry.txt")
    expect(page.locator("#status-line")).to_contain_text("1 document")
    answer = _ask(page, "When was the Brimstone mill built?")
    expect(answer.locator(".citation .source", has_text="mill.txt")).to_have_count(0)
    expect(answer).not_to_contain_text("1842")
    # re-indexing the other one finds it unchanged
    _pick_document(page, "ferry.txt")
    page.locator("#reindex-doc").click()
    expect(page.locator("#upload-status")).to_contain_text(
        "ferry.txt is unchanged since it was indexed")
    shoot(page, "ui-remove")
    assert watch.errors == []


def test_download_and_copy_hold_question_answer_and_quoted_sentence(
        page: Any, tmp_path: Path) -> None:
    page, watch = page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    question = "How many Azerbaijanis became victims of landmine explosions?"
    answer = _ask(page, question)
    quoted = answer.locator(".citation mark.cited").first.inner_text()
    answer.locator("button.copy").click()
    expect(answer.locator("button.copy")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "282 Azerbaijanis became victims" in copied and "**" not in copied
    assert "[1] seeds/azernews-2023-01-23-landmines.txt: \"" in copied
    with page.expect_download() as info:
        page.locator("#download").click()
    saved = tmp_path / "conversation.md"
    info.value.save_as(saved)
    markdown = saved.read_text(encoding="utf-8")
    assert markdown.startswith("# Conversation")
    assert f"## 1. {question}" in markdown
    assert "**282** Azerbaijanis became victims" in markdown  # the answer
    assert "[1] `seeds/azernews-2023-01-23-landmines.txt`" in markdown
    assert f"  > {quoted}" in markdown  # the quoted sentence
    assert watch.errors == []


def test_deleting_a_collection_asks_first(page: Any, shoot: Any, tmp_path: Path) -> None:
    page, watch = page
    _create(page, "short-lived")
    note = tmp_path / "note.txt"
    note.write_text("The Pellwick archive opens at nine.\n")
    _upload(page, note)
    confirm = page.locator("#confirm-delete")
    expect(confirm).to_be_hidden()
    page.locator("#delete-collection").click()
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Delete the collection “short-lived” and its 1 document?")
    page.locator("#confirm-no").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#documents")).to_contain_text("note.txt")  # kept
    page.locator("#delete-collection").click()
    shoot(page, "ui-delete-confirm")
    page.locator("#confirm-yes").click()
    expect(page.locator("#upload-status")).to_contain_text(
        "Deleted the collection “short-lived” and its 1 document(s).")
    expect(confirm).to_be_hidden()
    expect(page.locator("#collection input")).to_have_value("seed")
    page.locator("#collection input").click()
    expect(page.locator("[role=option]", has_text="seed")).to_be_visible()
    expect(page.locator("[role=option]", has_text="short-lived")).to_have_count(0)
    assert watch.errors == []
