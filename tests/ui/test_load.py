"""bench/load.py at CI size: concurrent clients of the ``ask`` endpoint, every answer checked
against the single-user answer; no errors, no mismatches."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from rag.pipeline import Engine

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


load = _bench()


def _check(result: object) -> None:
    assert isinstance(result, load.LoadResult)
    assert result.errors == [], result.errors[:5]
    assert result.mismatches == [], result.mismatches[:5]
    assert result.not_run == 0 and result.asked == result.clients * result.per_client
    assert len(result.single_latencies) == result.cases > 0


def test_concurrent_clients_get_the_single_user_answers(app_url: str) -> None:
    """Against the session app (tests/ui/conftest.py): 4 clients × 5 questions."""
    result = load.run_load(app_url, clients=4, per_client=5, timeout_s=300)
    _check(result)
    text = load.markdown(result, None)
    assert "| 4 | 20 | 0 | 0 |" in text


def test_answers_computed_concurrently_in_one_engine(ui_engine: Engine) -> None:
    """The same through an app that answers 4 at a time, like ``rag ui``: the engine's
    model, store and lexical view are used by several threads at once."""
    with load.serve(ui_engine, concurrency=4) as url:
        result = load.run_load(url, clients=4, per_client=5, seed=1, timeout_s=300)
    _check(result)


def test_refuses_other_hosts() -> None:
    with pytest.raises(SystemExit, match="loopback"):
        load.check_loopback("http://example.com:7860")
