"""The embedder's two backends on the real model: a real ONNX export into a temp cache."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index.embed import Embedder, TorchEncoder, Vectors, default_model_path
from index.errors import ConfigError, ModelUnavailable
from index.onnx_model import OnnxEncoder, cached_path
from index.segment import split_sentences

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "azernews-2023-01-23-landmines.txt"
EDGE = [
    "How many people were killed?",
    "  Leading and trailing white space\t",
    "Crème brûlée, naïve café, Ærøskøbing",
    "中文字符 テスト 한국어",
    "emoji 😀 🚀 and zero\u200bwidth and ﬁ ligatures",
    "x",
    " ".join(["a sentence far longer than the model reads"] * 60),  # truncated at 256
    "a" * 3000,
]


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    return [s.text for s in split_sentences(SEED.read_text(encoding="utf-8"))] + EDGE


@pytest.fixture(scope="module")
def questions() -> list[str]:
    cases = json.loads((ROOT / "eval" / "seed_qa.json").read_text(encoding="utf-8"))["cases"]
    return [str(c["question"]) for c in cases]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx_embedder(cache: Path) -> Embedder:
    """Exports the bundled model into an empty temp cache on first use."""
    return Embedder(backend="onnx", cache_dir=cache, batch_size=16)


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(backend="torch", batch_size=16)


def test_onnx_vectors_match_torch(onnx_embedder: Embedder, torch_embedder: Embedder,
                                  sentences: list[str], questions: list[str]) -> None:
    assert isinstance(onnx_embedder.model, OnnxEncoder)
    assert isinstance(torch_embedder.model, TorchEncoder)
    got, want = onnx_embedder.embed(sentences), torch_embedder.embed(sentences)
    assert got.dtype == np.float32 and got.shape == want.shape == (len(sentences), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float(np.abs(got - want).max()) < 1e-4
    # the same ranking of the seed sentences for every seed question
    q_got, q_want = onnx_embedder.embed(questions), torch_embedder.embed(questions)
    assert float(np.abs(q_got - q_want).max()) < 1e-4
    rank_got = np.argsort(-(q_got @ got.T), axis=1, kind="stable")[:, :5]
    rank_want = np.argsort(-(q_want @ want.T), axis=1, kind="stable")[:, :5]
    assert (rank_got == rank_want).all()


def test_both_backends_count_word_pieces_alike(onnx_embedder: Embedder,
                                               torch_embedder: Embedder,
                                               sentences: list[str]) -> None:
    texts = [*sentences, "", " ", "\x00control\x7f", "\u00a0nbsp\u00a0"]
    counts = torch_embedder.count_pieces_many(texts)
    assert onnx_embedder.count_pieces_many(texts) == counts
    assert [onnx_embedder.count_pieces(t) for t in texts] == counts
    assert max(counts) > 256, "counting never truncates"
    assert onnx_embedder.count_pieces_many([]) == []
    assert onnx_embedder.max_pieces == torch_embedder.max_pieces == 254
    assert onnx_embedder.model.max_seq_length == 256
    assert onnx_embedder.dimension == torch_embedder.dimension == 384
    assert onnx_embedder.embed([]).shape == (0, 384)


def test_the_export_is_cached_and_serving_needs_no_torch(onnx_embedder: Embedder,
                                                         cache: Path) -> None:
    onnx_embedder.embed(["load"])
    target = cached_path(default_model_path(), cache)
    assert onnx_embedder.model.onnx_path == target and target.is_file()
    assert [p.name for p in target.parent.iterdir()] == ["model.onnx"], "no temp files left"
    mtime = target.stat().st_mtime_ns
    code = ("import sys; from pathlib import Path; from index.embed import Embedder; "
            "e = Embedder(backend='onnx', cache_dir=Path(sys.argv[1])); "
            "v = e.embed(['How many people were killed?']); "
            "print(type(e.model).__name__, v.shape, 'torch' in sys.modules, "
            "'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(cache)], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120).stdout.strip()
    assert out == "OnnxEncoder (1, 384) False False"
    assert target.stat().st_mtime_ns == mtime, "a second process reuses the export"


def test_concurrent_embeds_give_identical_results(onnx_embedder: Embedder,
                                                  sentences: list[str]) -> None:
    batches = [sentences[i::4] for i in range(4)]
    expected = [onnx_embedder.embed(b) for b in batches]
    results: dict[tuple[int, int], np.ndarray] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for r in range(3):
                i = (worker + r) % len(batches)
                results[(worker, r)] = onnx_embedder.embed(batches[i])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and len(results) == 18
    for (worker, r), got in results.items():
        assert np.array_equal(got, expected[(worker + r) % len(batches)])


def test_first_use_from_many_threads_loads_once(tmp_path: Path, onnx_embedder: Embedder,
                                                cache: Path) -> None:
    fresh = Embedder(backend="onnx", cache_dir=cache)
    models: list[object] = []
    threads = [threading.Thread(target=lambda: models.append(fresh.model)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(models) == 6 and all(m is models[0] for m in models)


def test_a_broken_cache_file_is_exported_again(tmp_path: Path, onnx_embedder: Embedder,
                                               caplog: pytest.LogCaptureFixture) -> None:
    target = cached_path(default_model_path(), tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not an onnx file")
    with caplog.at_level(logging.WARNING, logger="index.embed"):
        embedder = Embedder(backend="onnx", cache_dir=tmp_path)
        vectors = embedder.embed(EDGE)
    assert isinstance(embedder.model, OnnxEncoder)
    assert float(np.abs(vectors - onnx_embedder.embed(EDGE)).max()) < 1e-5
    assert target.stat().st_size > 1_000_000
    assert f"the cached ONNX model {target} is unusable" in caplog.text
    assert "exported it again" in caplog.text


def test_an_unusable_cache_falls_back_to_torch_or_says_what_to_do(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("a file where the cache folder should be")
    with pytest.raises(ModelUnavailable, match=r"cannot write the ONNX cache folder .*"
                                               r"RAG_EMBED_BACKEND=torch"):
        Embedder(backend="onnx", cache_dir=not_a_folder).embed(["x"])
    with caplog.at_level(logging.WARNING, logger="index.embed"):
        auto = Embedder(backend="auto", cache_dir=not_a_folder)
        assert auto.embed(["x"]).shape == (1, 384)
    assert isinstance(auto.model, TorchEncoder)
    assert "using sentence-transformers on torch" in caplog.text


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ConfigError, match="auto, onnx, torch"):
        Embedder(backend="tensorflow")


def test_a_changed_model_gets_a_new_cache_folder(tmp_path: Path) -> None:
    source = default_model_path()
    copy = tmp_path / "model"
    for file in source.rglob("*"):
        if file.is_file():
            dest = copy / file.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if file.stat().st_size > 1 << 20:
                dest.symlink_to(file)
            else:
                dest.write_bytes(file.read_bytes())
    before = cached_path(copy, tmp_path)
    assert before == cached_path(copy, tmp_path)
    assert before != cached_path(source, tmp_path)
    config = copy / "config.json"
    config.write_text(config.read_text().replace('"hidden_act"', '"hidden_act" '))
    assert cached_path(copy, tmp_path) != before


def test_a_question_waits_for_one_batch_not_for_a_whole_document(embedder: Embedder) -> None:
    document = [f"Sentence {i} says the bridge over the river opened in {1900 + i % 99}."
                for i in range(1000)]
    expected = embedder.embed(document[:40])
    indexed: list[Vectors] = []
    worker = threading.Thread(target=lambda: indexed.append(embedder.embed(document)))
    worker.start()
    time.sleep(0.5)  # the document's encoding is under way
    started = time.perf_counter()
    question = embedder.embed(["When did the bridge open?"])
    waited = time.perf_counter() - started
    still_indexing = worker.is_alive()
    worker.join()
    assert still_indexing, f"the question waited {waited:.1f} s, for the whole document"
    assert question.shape == (1, embedder.dimension)
    np.testing.assert_allclose(indexed[0][:40], expected, atol=1e-5)  # same vectors, in order
