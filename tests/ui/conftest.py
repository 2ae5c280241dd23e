"""The real app on a free loopback port (started once), and a real Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.embed import Embedder
from rag.pipeline import Engine
from tests.conftest import free_port, seeded_engine

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
LOOPBACK = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")


@pytest.fixture(scope="session")
def ui_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Engine]:
    """An engine of its own (uploads land in its temp data folder), seeds indexed."""
    yield from seeded_engine(tmp_path_factory.mktemp("ui-data"), embedder)


@pytest.fixture(scope="session")
def app_url(ui_engine: Engine) -> Iterator[str]:
    """The real app, served on a free loopback port for the whole session."""
    from ui.app import build_app

    demo = build_app(ui_engine, stream_delay=0.01)
    demo.queue()
    for attempt in range(3):
        try:
            _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(),
                                    prevent_thread_lock=True, quiet=True, ssr_mode=False,
                                    max_file_size=int(ui_engine.settings.max_upload_mb * 1e6))
            break
        except OSError:
            if attempt == 2:
                raise
    try:
        yield url.rstrip("/")
    finally:
        demo.close(verbose=False)


def _chromium() -> str | None:
    return os.environ.get("RAG_CHROMIUM") or shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = _chromium()
    if path is None:
        message = "Debian chromium is not installed: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageWatch:
    """What a page did that it must not: dialogs, requests leaving the machine, JS errors."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.external: list[str] = []
        self.errors: list[str] = []


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[tuple[Any, PageWatch]]:
    """A fresh page on the app; fails the test on any dialog or non-loopback request."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = PageWatch()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: None if r.url.startswith(LOOPBACK)
            else watch.external.append(r.url))
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.goto(app_url)
    page.locator("#documents .doc-row").first.wait_for(timeout=60_000)
    try:
        yield page, watch
    finally:
        context.close()
    assert watch.dialogs == [], watch.dialogs
    assert watch.external == [], f"requests left the machine: {watch.external}"


@pytest.fixture
def shoot() -> Any:
    """``shoot(page, name)`` saves a full-page screenshot under test-artifacts/."""

    def save(page: Any, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
