"""Shared fixtures: the real embedding model (loaded once), real Chroma in temp folders, and a
scripted fake of an OpenAI-compatible chat server on loopback, for generative answers.

No model runs here: each request to ``/v1/chat/completions`` gets the next queued canned reply
(as one JSON completion, or as server-sent events when the client asks to stream), and every
request is recorded. The real ``langchain-openai`` client talks to it over HTTP.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from index.offline import set_offline_environment

set_offline_environment()

from index.docrecord import Version  # noqa: E402
from index.embed import Embedder  # noqa: E402
from index.store import Store  # noqa: E402
from rag.pipeline import Engine  # noqa: E402
from rag.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "azernews-2023-01-23-landmines.txt"
SEED_SOURCE = "seeds/azernews-2023-01-23-landmines.txt"
SHARED_DATA = ROOT.parent / "shared" / "data"


def free_port() -> int:
    """A TCP port free on loopback now (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def orphan_versions(store: Store) -> set[Version]:
    """Versions of chunk records that no committed document record owns."""
    return store.stored_versions() - {d.key for d in store.docs().values()}


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2, loaded once per test session."""
    return Embedder()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs from the project root with its own data folder."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    for key in ("RAG_CHROMA_URL", "RAG_COLLECTION", "RAG_SEEDS_DIR"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def seeded_engine(data: Path, embedder: Embedder) -> Iterator[Engine]:
    """An engine with its own data folder ``data`` and the seed collection indexed, run from the
    project root (for session fixtures, which the per-test chdir does not cover)."""
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        engine = Engine(Settings(data_dir=data), embedder=embedder)
        engine.index([ROOT / "seeds"], "seed")
        yield engine
    finally:
        os.chdir(old)


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Engine]:
    """An engine over the seed collection, indexed once for the whole session."""
    yield from seeded_engine(tmp_path_factory.mktemp("seed-data"), embedder)


@dataclass(frozen=True)
class Reply:
    """One canned reply: ``content`` (or a function of the request giving it), sent after
    ``delay`` seconds (a streamed one waits ``pause`` between pieces); ``raw`` replaces the
    whole body (garbage on the wire)."""

    content: str | Callable[[dict[str, Any]], str] = ""
    delay: float = 0.0
    pause: float = 0.0
    status: int = 200
    raw: bytes | None = None


class ScriptedOpenAIServer:
    """Scripted fake of ``POST /v1/chat/completions``: replies come from :meth:`queue`."""

    Reply = Reply

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.closed = 0
        """Requests whose connection the client closed while the reply was being prepared."""
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(body)
                    reply = server.replies.popleft() if server.replies else None
                with contextlib.suppress(OSError):  # the client gave up (a timeout test)
                    server._answer(self, body, reply)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def queue(self, *replies: Reply | str | Callable[[dict[str, Any]], str]) -> None:
        for r in replies:
            self.replies.append(r if isinstance(r, Reply) else Reply(r))

    def _answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any],
                reply: Reply | None) -> None:
        if reply is None:
            reply = Reply(status=500, raw=b'{"error": {"message": "no scripted reply left"}}')
        if not self._wait(handler.connection, reply.delay):
            with self._lock:
                self.closed += 1
            return
        content = reply.content(body) if callable(reply.content) else reply.content
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": body["model"]}
        if reply.raw is not None or reply.status != 200:
            self._send(handler, reply.status, "application/json", reply.raw or b"{}")
        elif body.get("stream"):
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream")
            handler.end_headers()
            pieces = [content[i:i + 7] for i in range(0, len(content), 7)]
            for i, piece in enumerate([*pieces, None]):
                if i and not self._wait(handler.connection, reply.pause):
                    with self._lock:
                        self.closed += 1
                    return
                delta = {"role": "assistant", "content": piece} if i == 0 else (
                    {"content": piece} if piece is not None else {})
                chunk = {**base, "object": "chat.completion.chunk", "choices": [
                    {"index": 0, "delta": delta,
                     "finish_reason": None if piece is not None else "stop"}]}
                handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                handler.wfile.flush()
            handler.wfile.write(b"data: [DONE]\n\n")
        else:
            completion = {**base, "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content},
                 "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            self._send(handler, 200, "application/json", json.dumps(completion).encode())

    @staticmethod
    def _wait(connection: socket.socket, seconds: float) -> bool:
        """Sleep ``seconds`` (a model generating); False as soon as the client closes."""
        deadline = time.monotonic() + seconds
        poller = select.poll()  # not select.select: a long test session's fds pass 1024
        poller.register(connection, select.POLLIN)
        while (left := deadline - time.monotonic()) > 0:
            readable = poller.poll(min(left, 0.05) * 1000)
            if readable and connection.recv(1, socket.MSG_PEEK) == b"":
                return False
        return True

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, kind: str, data: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedOpenAIServer]:
    """A fresh scripted server on a free loopback port; the user's OpenAI variables unset."""
    if importlib.util.find_spec("langchain_openai") is None:
        message = "langchain-openai is not installed: pip install -e '.[llm]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "RAG_ANSWERER",
                "RAG_LLM_BASE_URL", "RAG_LLM_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    server = ScriptedOpenAIServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
