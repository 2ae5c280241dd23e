"""Shared fixtures: the real embedding model (loaded once), real Chroma in temp folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

for _key, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                     ("ANONYMIZED_TELEMETRY", "False"), ("GRADIO_ANALYTICS_ENABLED", "False"),
                     ("TOKENIZERS_PARALLELISM", "false"), ("OMP_WAIT_POLICY", "PASSIVE")):
    os.environ.setdefault(_key, _value)

from index.embed import Embedder  # noqa: E402
from rag.pipeline import Engine  # noqa: E402
from rag.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "azernews-2023-01-23-landmines.txt"
SEED_SOURCE = "seeds/azernews-2023-01-23-landmines.txt"
SHARED_DATA = ROOT.parent / "shared" / "data"


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
