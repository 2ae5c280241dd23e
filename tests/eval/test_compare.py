import json
from pathlib import Path

from eval.compare import differences, main, read_cases


def case(id_: str, refused: bool, score: float, cited: list[list[object]]) -> dict[str, object]:
    ours = {"refused": refused, "score": score, "citations": cited, "answer": "a"}
    return {"dataset": "seed", "id": id_, "systems": {"ours": ours, "baseline": {"x": id_}}}


def write(path: Path, cases: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    return path


def test_same_runs_have_no_differences(tmp_path: Path) -> None:
    run = [case("q1", False, 0.5, [["d", 0, 9]]), case("q2", True, 0.01, [])]
    a, b = write(tmp_path / "a", run), write(tmp_path / "b", run)
    assert differences(read_cases(a), read_cases(b), ["ours", "rules"]) == []
    assert main([str(a), str(b)]) == 0


def test_each_difference_is_named(tmp_path: Path) -> None:
    a = write(tmp_path / "a", [case("q1", False, 0.5, [["d", 0, 9]]), case("q2", True, 0.01, [])])
    b = write(tmp_path / "b", [case("q1", True, 0.5, [])])
    assert differences(read_cases(a), read_cases(b), ["ours"]) == [
        "seed/q1 [ours] refused: False -> True",
        "seed/q1 [ours] citations: [['d', 0, 9]] -> []",
        "seed/q2: only in before"]
    assert main([str(a), str(b), "--systems", "ours"]) == 1
