"""Safe to expose: a login page with --auth (in a real browser and through gradio_client),
no serving beyond loopback without a login, read-only apps and allowed collections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from playwright.sync_api import expect

from index.errors import ConfigError
from rag import library
from rag.pipeline import Engine
from rag.settings import Settings
from tests.conftest import free_port
from ui.access import Access, check_exposure, is_loopback, logins, read_users
from ui.app import launch

QUESTION = "How many Azerbaijanis became victims of landmine explosions?"


@pytest.fixture(autouse=True)
def _patient() -> Iterator[None]:
    """Each step may wait for the server a while: the machine may be busy."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default


def _serve(engine: Engine, **options: Any) -> Iterator[str]:
    demo = launch(engine, "127.0.0.1", free_port(), block=False, **options)
    try:
        yield str(demo.local_url).rstrip("/")
    finally:
        demo.close(verbose=False)


@pytest.fixture(scope="module")
def locked_url(ui_engine: Engine) -> Iterator[str]:
    """The app with a login, as ``rag ui --auth ana:s3cret`` serves it."""
    yield from _serve(ui_engine, auth="ana:s3cret")


@pytest.fixture(scope="module")
def read_only_url(ui_engine: Engine) -> Iterator[str]:
    """The app as ``RAG_UI_COLLECTIONS=seed rag ui --no-uploads`` serves it."""
    library.create(ui_engine, "not-served")  # held, but not served by this app
    settings = Settings(data_dir=ui_engine.settings.data_dir, ui_collections="seed")
    engine = Engine(settings, ui_engine.embedder, ui_engine.client)
    yield from _serve(engine, uploads=False)


def test_the_login_page_guards_the_chat(browser: Any, locked_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(locked_url)
        expect(page.locator("input[type=password]")).to_be_visible(timeout=30_000)
        expect(page.locator("#question")).to_have_count(0)
        page.locator("input[type=text]").first.fill("ana")
        page.locator("input[type=password]").fill("wrong")
        page.locator("button", has_text="Login").click()
        expect(page.locator("body")).to_contain_text("Incorrect Credentials")
        expect(page.locator("#question")).to_have_count(0)
        page.locator("input[type=text]").first.fill("ana")
        page.locator("input[type=password]").fill("s3cret")
        page.locator("button", has_text="Login").click()
        expect(page.locator("#question")).to_be_visible(timeout=30_000)
        expect(page.locator("#documents .doc-row").first).to_be_visible(timeout=60_000)
    finally:
        context.close()


def test_no_access_without_the_login(locked_url: str) -> None:
    import httpx

    assert httpx.get(f"{locked_url}/config").status_code == 401
    with pytest.raises(Exception):  # noqa: B017 (gradio_client raises plain errors)
        Client(locked_url, verbose=False)
    with pytest.raises(Exception):  # noqa: B017
        Client(locked_url, auth=("ana", "wrong"), verbose=False)
    got = Client(locked_url, auth=("ana", "s3cret"), verbose=False).predict(
        QUESTION, api_name="/ask")
    assert "282" in got["answer"] and got["citations"]


def test_a_read_only_app_serves_only_the_allowed_collections(
        browser: Any, read_only_url: str) -> None:
    client = Client(read_only_url, verbose=False)
    assert "282" in client.predict(QUESTION, "seed", api_name="/ask")["answer"]
    with pytest.raises(Exception, match="'not-served' is not served here"):
        client.predict(QUESTION, "not-served", api_name="/ask")
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(read_only_url)
        expect(page.locator("#documents .doc-row").first).to_be_visible(timeout=60_000)
        for control in ("#upload", "#remove-doc", "#create-collection", "#delete-collection"):
            expect(page.locator(control)).to_have_count(0)
        page.locator("#collection input").click()
        expect(page.locator("[role=option]")).to_have_count(1)
        expect(page.locator("[role=option]")).to_have_attribute("aria-label", "seed")
    finally:
        context.close()


def test_serving_beyond_loopback_needs_a_login_or_public(ui_engine: Engine) -> None:
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0 without a login"):
        launch(ui_engine, "0.0.0.0", free_port(), block=False)
    check_exposure("0.0.0.0", logins("a:b", None), public=False)
    check_exposure("0.0.0.0", None, public=True)
    check_exposure("127.0.0.1", None, public=False)
    assert is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("192.168.1.5") and not is_loopback("example.org")


def test_logins_from_the_option_and_a_users_file(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("# who may log in\nana:s3cret\n\nbo:pass:with:colons\n")
    check = logins("cy:x", users)
    assert check is not None
    assert check("ana", "s3cret") and check("bo", "pass:with:colons") and check("cy", "x")
    assert not check("ana", "S3cret") and not check("dee", "") and not check("", "\x00")
    assert logins(None, None) is None
    with pytest.raises(ConfigError, match="line 1: expected USER:PASSWORD"):
        read_users("no-colon", "users")
    with pytest.raises(ConfigError, match="cannot read the users file"):
        logins(None, tmp_path / "missing")


def test_allowed_collections_come_from_the_settings(tmp_path: Path) -> None:
    access = Access.from_settings(Settings(data_dir=tmp_path, ui_collections=" a-1, b-2 ,"))
    assert access.collections == ("a-1", "b-2") and access.uploads
    assert access.check("b-2") == "b-2" and access.default("seed") == "a-1"
    with pytest.raises(Exception, match=r"'c-3' is not served here .*a-1, b-2"):
        access.check("c-3")
    assert Access.from_settings(Settings(data_dir=tmp_path)).allows("anything")
    with pytest.raises(ConfigError, match="RAG_UI_COLLECTIONS"):
        Access.from_settings(Settings(data_dir=tmp_path, ui_collections="ok-name,bad name"))
    read_only = Access.from_settings(Settings(data_dir=tmp_path, ui_uploads=False))
    with pytest.raises(Exception, match="read-only"):
        read_only.check_changes()
