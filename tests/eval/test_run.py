"""End to end: ``eval.run.main`` over the seed set and XQuAD (real model, real Chroma)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.run import main
from index.embed import Embedder
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.mark.skipif(not (SHARED_DATA / "xquad.en.json").exists(),
                    reason=f"shared eval data not found at {SHARED_DATA}")
def test_eval_run_writes_the_report(tmp_path: Path, embedder: Embedder,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    settings = Settings(data_dir=tmp_path / "data")
    rc = main(["--dataset", "seed", "--dataset", "xquad", "--limit", "3", "--out", str(out),
               "--quiet"], settings=settings, embedder=embedder)
    assert rc == 0
    for name in ("REPORT.md", "summary.json", "cases.jsonl", "metrics.png", "scores.png",
                 "topk.png"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["datasets"]) == ["seed", "xquad"]
    assert all(d["baseline"]["verbatim"]["rate"] == 1.0 for d in summary["datasets"].values())
    for systems in summary["datasets"].values():
        assert set(systems) == {"ours", "rules", "baseline"}
        for system in systems.values():
            assert system["cases"] == 3
            # every citation made is verbatim (None: a system refused all three)
            assert system["verbatim"]["rate"] in (1.0, None)
            assert system["verbatim"]["exact"] == system["verbatim"]["citations"]
            assert [p["k"] for p in system["curve"]] == [1, 2, 3, 4, 5]
    rows = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(set(r["systems"]) == {"ours", "rules", "baseline"}
                                  for r in rows)
    ours = [r["systems"]["ours"] for r in rows if r["dataset"] == "xquad"]
    # sources are the corpus file names, the names the gold spans use
    assert all(c[0] == "Super_Bowl_50.txt" for r in ours for c in r["citations"])
    assert all(r["gold"][0][0] == "Super_Bowl_50.txt" for r in rows if r["dataset"] == "xquad")
    assert all(r["systems"]["ours"]["verbatim"] == len(r["systems"]["ours"]["citations"])
               for r in rows)
    assert all(r["systems"]["baseline"]["verbatim"] == r["systems"]["baseline"]["cited"] > 0
               and 1 <= len(r["systems"]["baseline"]["chunks"]) <= 4 for r in rows)
    report = (out / "REPORT.md").read_text(encoding="utf-8")
    assert "| xquad | baseline |" in report and "where-the-system-fails" in report
    assert "| xquad | rules |" in report and "trained reader" in report
    assert "90.1" in report and "72.5" in report
    assert "report:" in capsys.readouterr().out
    # the eval collections stay apart from the user's store
    assert (tmp_path / "data" / "eval" / "chroma").is_dir()
    assert not (tmp_path / "data" / "chroma").exists()


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert main(["--dataset", "nope", "--out", str(tmp_path)], settings=settings) == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert main(["--collection", "bad__name"], settings=settings) == 2
    assert main(["--limit", "0"], settings=settings) == 2
    assert main(["--dataset", "xquad", "--data-dir", str(tmp_path)], settings=settings) == 2
    assert "--data-dir" in capsys.readouterr().err


def test_a_model_run_records_the_answerer_and_its_fallbacks(
        tmp_path: Path, embedder: Embedder, openai_server: Any) -> None:
    openai_server.queue("The documents say a lot.", "no markers here at all")
    out = tmp_path / "report"
    settings = Settings(data_dir=tmp_path / "data", llm_base_url=openai_server.url,
                        llm_api_key="k", llm_timeout_s=10.0)
    rc = main(["--dataset", "seed", "--limit", "2", "--out", str(out), "--quiet",
               "--no-baseline", "--no-rules", "--answerer", "openai:fake-model"],
              settings=settings, embedder=embedder)
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["answerer"] == "openai:fake-model"
    assert summary["run"]["datasets"]["seed"]["fallbacks"] == 2
    assert summary["datasets"]["seed"]["ours"]["fallbacks"] == 2
    rows = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert [r["systems"]["ours"]["fallback"] for r in rows] == [
        "the model's answer cites no evidence sentence (no [n] markers)"] * 2
    report = (out / "REPORT.md").read_text(encoding="utf-8")
    assert "the chat model `openai:fake-model`" in report and "seed 2 of 2" in report
