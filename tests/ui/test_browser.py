"""The chat in a real browser (Debian chromium through Playwright) against the real app."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "azernews-2023-01-23-landmines.txt"
LONG = 60_000


def _ask(page: Any, question: str) -> Any:
    """Ask ``question``; returns the locator of its finished answer (the last bot message)."""
    done = "#conversation .msg.bot:not(.pending):not(.streaming)"
    before = page.locator(done).count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    answers = page.locator(done)
    expect(answers).to_have_count(before + 1, timeout=LONG)
    return answers.last


def _upload(page: Any, path: Path) -> None:
    page.locator("#upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#upload-status li").first).to_be_visible(timeout=LONG)


def test_ask_shows_citation_and_opens_it_in_the_document(page: Any, shoot: Any) -> None:
    page, watch = page
    answer = _ask(page, "How many Azerbaijanis became victims of landmine explosions?")
    expect(answer).to_have_class("msg bot answer")
    expect(answer.locator(".answer-text")).to_contain_text("282")
    expect(answer.locator(".answer-text .marker").first).to_have_text("[1]")
    citation = answer.locator(".citation").first
    expect(citation.locator(".source")).to_have_text("seeds/azernews-2023-01-23-landmines.txt")
    expect(citation.locator("mark.cited")).to_contain_text("282 Azerbaijanis became victims")
    expect(citation.locator(".around").first).to_contain_text("All along the occupation")
    citation.click()
    mark = page.locator("#viewer #cited-span")
    expect(mark).to_contain_text("282 Azerbaijanis became victims of landmine explosions")
    expect(mark).to_be_in_viewport()
    full = page.locator("#viewer .doc-text").inner_text()
    assert "Azerbaijan has renewed accusations" in full  # the whole document, not a snippet
    text = SEED.read_text()
    start = text.index(mark.inner_text())
    assert text[start:start + len(mark.inner_text())] == mark.inner_text()
    # a marker in the answer text opens the same span
    page.locator("#clear").click()
    expect(page.locator("#conversation .msg")).to_have_count(0)
    answer = _ask(page, "How many Azerbaijanis became victims of landmine explosions?")
    answer.locator(".answer-text .marker").first.click()
    expect(page.locator("#viewer #cited-span")).to_be_in_viewport()
    path = shoot(page, "ui-ask-citation")
    if os.environ.get("UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(path, ROOT / "docs" / "chat.png")
    assert watch.errors == []


def test_refused_answer_looks_different(page: Any, shoot: Any) -> None:
    page, _ = page
    answer = _ask(page, "What's the weather forecast for Baku tomorrow?")
    expect(answer).to_have_class("msg bot refused")
    expect(answer.locator(".refused-label")).to_be_visible()
    expect(answer.locator(".citation")).to_have_count(0)
    shoot(page, "ui-refused")


def test_upload_then_ask_about_it(page: Any, shoot: Any, tmp_path: Path) -> None:
    page, watch = page
    doc = tmp_path / "zorblax-bridge.txt"
    doc.write_text("The Zorblax bridge spans the Quell river in the town of Lintmoor.\n\n"
                   "The Zorblax bridge was completed in 1987. It carries two lanes of traffic.\n")
    _upload(page, doc)
    expect(page.locator("#upload-status li.ok")).to_contain_text("zorblax-bridge.txt")
    expect(page.locator("#documents")).to_contain_text("zorblax-bridge.txt")
    answer = _ask(page, "When was the Zorblax bridge completed?")
    expect(answer.locator(".answer-text")).to_contain_text("1987")
    expect(answer.locator(".citation .source").first).to_contain_text("zorblax-bridge.txt")
    # a wrong type and an empty file are refused with a message, not indexed
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ\x00\x01")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    page.locator("#upload input[type=file]").set_input_files([str(bad), str(empty)])
    expect(page.locator("#upload-status li.error")).to_contain_text(
        "empty.txt: the file is empty", timeout=LONG)
    expect(page.locator("body")).to_contain_text("notes.exe")  # Gradio's or our refusal
    expect(page.locator("#documents")).not_to_contain_text("empty.txt")
    shoot(page, "ui-upload")
    assert watch.errors == []


PAYLOAD = (
    "The Quillfeather tower stands 212 metres tall <script>alert(1)</script> above the "
    '<img src=x onerror="window.__xss=1;alert(2)"> harbour [x](javascript:alert(3)) and '
    "<b onmouseover=alert(4)>square</b> ${alert(5)} {{constructor}}.\n\n"
    "Visitors climb the Quillfeather tower every day.\n"
)


def _assert_inert(page: Any) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("[onmouseover], [onerror]").count() == 0
    injected = page.evaluate(
        "[...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(')"
        ").length")
    assert injected == 0


def test_injected_markup_displays_as_text_and_runs_nothing(page: Any, shoot: Any,
                                                           tmp_path: Path) -> None:
    page, watch = page
    doc = tmp_path / 'evil<img src=x onerror="alert(9)">.md'
    doc.write_text(PAYLOAD)
    _upload(page, doc)
    expect(page.locator("#upload-status li.ok")).to_be_visible()
    # Gradio drops the angle brackets from the name; what is left shows as text
    expect(page.locator("#upload-status")).to_contain_text("img src=x onerror=")
    answer = _ask(page, "How tall is the Quillfeather tower?")
    expect(answer.locator(".answer-text")).to_contain_text("212")
    expect(answer.locator(".citation mark.cited").first).to_contain_text(
        "<script>alert(1)</script>")
    answer.locator(".citation").first.click()
    expect(page.locator("#viewer #cited-span")).to_contain_text(
        '<img src=x onerror="window.__xss=1;alert(2)">')
    expect(page.locator("#viewer #cited-span")).to_contain_text("[x](javascript:alert(3))")
    page.locator("#viewer #cited-span").hover()
    _assert_inert(page)
    # the document list entry opens the whole document too, still as text
    page.locator("#documents .doc-row", has_text="evil").click()
    expect(page.locator("#viewer .doc-text")).to_contain_text("Visitors climb the Quillfeather")
    expect(page.locator("#viewer .doc-text")).to_contain_text("${alert(5)} {{constructor}}")
    _assert_inert(page)
    shoot(page, "ui-injection")
    assert watch.dialogs == []
    assert watch.errors == []
