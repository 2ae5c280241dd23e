"""``python -m eval.separate``: per dataset, from a run's cases."""

import json
from pathlib import Path

import pytest

from eval.separate import main, rows


def case(cid: str, answerable: bool, score: float, top: tuple[str, int, int] | None) -> dict:
    return {"dataset": "d", "id": cid, "answerable": answerable,
            "gold": [["a.txt", 0, 10]] if answerable else [],
            "systems": {"ours": {"score": score, "ranked": [list(top)] if top else []}}}


CASES = [case("1", True, 0.9, ("a.txt", 5, 20)), case("2", True, 0.4, ("a.txt", 30, 40)),
         case("3", False, 0.5, ("a.txt", 0, 10)), case("4", False, 0.1, None)]


def test_rows_give_best_sentence_right_auc_and_refusals() -> None:
    ((dataset, n, right, auc, refused),) = rows(CASES, "ours", 0.10)
    assert (dataset, n, right) == ("d", 4, 0.5)
    assert auc == 3 / 4  # 0.9 beats both, 0.4 beats 0.1 only
    assert refused == 0.5  # threshold 0.4 (refuses no answerable one): 0.1 is refused


def test_main_prints_one_line_per_dataset(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    assert main([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["d", "4", "50.0", "0.750", "50.0"]
