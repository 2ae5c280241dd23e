"""Supported and altered claims: how often the claim check of generative answers passes a claim
that its cited sentence does not support.

Built from SQuAD-format articles. A question that reads as a statement once its wh-word is
replaced by its answer ("Who founded the firm?" + "Ada Lovelace" -> "Ada Lovelace founded the
firm.") gives a *supported* claim citing the sentence that holds the answer. Each supported
claim gives altered ones that the same sentence does not support:

- ``negated``: "Ada Lovelace did not found ..." ("not" after an auxiliary, else "never" before
  the verb);
- ``number``: one number of the claim changed;
- ``name``: the answer replaced by the answer of another question on the same article that is a
  name too and does not occur in the cited sentence.

``python -m eval.claims`` prints, for the held-out XQuAD articles and the reader's validation
articles, how many claims of each kind the check passes (supported: higher is better; altered:
lower is better).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.datasets import DEFAULT_DATA_DIR, SHARED_FILES, squad_dataset
from eval.errors import DatasetError

KINDS = ("supported", "negated", "number", "name")
_AUX = frozenset("is was are were has have had can could will would may might must".split())
_OPENING = re.compile(r"^(?:who|what)\s+(\S+)\s+(.+?)\s*\?*$", re.I)
_PREPOSITIONS = frozenset(
    "with by for of to in on at from about as into like than do did does be".split())
_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")


@dataclass(frozen=True)
class ClaimCase:
    """A claim and the sentence it cites, with the kind of claim it is."""

    kind: str
    claim: str
    sentence: str
    source: str
    prev: str
    article: str


def statement(question: str, answer: str) -> tuple[str, str] | None:
    """(claim, verb) for a "Who/What <verb> ...?" question whose verb is an auxiliary or a
    regular past tense, or None when it does not read as a statement."""
    m = _OPENING.match(question.strip())
    if not m or not answer.strip():
        return None
    verb, rest = m.group(1), m.group(2)
    if verb.lower() not in _AUX and not (verb.islower() and verb.endswith("ed")):
        return None
    last = rest.split()[-1].lower()
    if last in _PREPOSITIONS or last.endswith("ed") or verb.lower() in {"did", "does", "do"}:
        return None  # "What is it known for?", "What was it called?": the answer is no subject
    subject = answer.strip().rstrip(".")
    return f"{subject[:1].upper()}{subject[1:]} {verb.lower()} {rest}.", verb.lower()


def negate(claim: str, answer: str, verb: str) -> str:
    """The claim with its verb negated."""
    size = len(answer.strip().rstrip("."))
    head, tail = claim[:size], claim[size:]
    word = f" {verb} not " if verb in _AUX else f" never {verb} "
    return head + tail.replace(f" {verb} ", word, 1)


def swap_number(claim: str) -> str | None:
    """The claim with its first number changed (a year by 3, anything else by one), or None
    when it holds no number."""
    m = _NUMBER.search(claim)
    if not m:
        return None
    digits = m.group(0).replace(",", "")
    if "." in digits:
        new = f"{float(digits) + 1:g}"
    else:
        value = int(digits)
        year = 1000 <= value <= 2100 and m.group(0) == digits
        new = str(value + 3 if year else value + 1)
    return claim[: m.start()] + new + claim[m.end():]


def is_name(text: str) -> bool:
    """Whether every word of ``text`` starts with a capital (a name, a place, a title)."""
    words = text.split()
    return bool(words) and len(words) <= 5 and all(w[:1].isupper() for w in words)


def claim_cases(raw: dict[str, Any], titles: frozenset[str] | None = None) -> list[ClaimCase]:
    """The claims of the SQuAD-format ``raw`` (articles in ``titles`` only, when given)."""
    articles = [a for a in raw["data"] if titles is None or a.get("title") in titles]
    dataset = squad_dataset({"data": articles}, "claims")
    documents = dataset.corpora[0].documents
    by_article: dict[str, list[tuple[str, str, str, int, int]]] = {}
    for case in dataset.cases:
        if not case.answerable or len(case.evidence) != 1:
            continue
        source, start, end = case.evidence[0]
        by_article.setdefault(source, []).append(
            (case.question, case.answers[0], documents[source], start, end))
    out: list[ClaimCase] = []
    for source, items in by_article.items():
        names = list(dict.fromkeys(a for _, a, _, _, _ in items if is_name(a)))
        for question, answer, text, start, end in items:
            made = statement(question, answer)
            if made is None:
                continue
            claim, verb = made
            sentence = text[start:end]
            prev = text[max(0, start - 200):start].strip()

            made_here = [("supported", claim), ("negated", negate(claim, answer, verb))]
            changed = swap_number(claim)
            if changed:
                made_here.append(("number", changed))
            if is_name(answer):
                other = next((n for n in names if n != answer and n not in sentence
                              and answer not in n and n not in answer), None)
                if other:
                    made_here.append(("name", other + claim[len(answer.strip().rstrip('.')):]))
            out += [ClaimCase(kind, what, sentence, source, prev, source)
                    for kind, what in made_here]
    return out


def pass_rates(cases: Sequence[ClaimCase], reasons: Sequence[str]) -> dict[str, tuple[int, int]]:
    """kind -> (claims the check passed, claims)."""
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for case, reason in zip(cases, reasons, strict=True):
        total[case.kind] += 1
        passed[case.kind] += not reason
    return {k: (passed[k], total[k]) for k in KINDS if total[k]}


def table(rows: dict[str, dict[str, dict[str, tuple[int, int]]]]) -> str:
    """A Markdown table: one row per (set, check), one column per kind of claim."""
    lines = ["| claims | check | " + " | ".join(KINDS) + " |",
             "|---|---|" + "---:|" * len(KINDS)]
    for name, checks in rows.items():
        for check, rates in checks.items():
            cells = []
            for kind in KINDS:
                done, n = rates.get(kind, (0, 0))
                cells.append(f"{done}/{n} ({100 * done / n:.1f} %)" if n else "-")
            lines.append(f"| {name} | {check} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sets(data_dir: Path) -> dict[str, list[ClaimCase]]:
    """The claim sets: the reader's validation articles (for fitting) and the held-out XQuAD
    articles (for reporting)."""
    import json

    from rag.training.data import HALF_TITLES, VALIDATION_TITLES

    def read(name: str) -> dict[str, Any]:
        path = data_dir / name
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot read {path} ({exc}): pass --data-dir, the folder of the "
                               "shared eval data") from exc

    xquad = read(SHARED_FILES["xquad"])
    held_out = frozenset(str(a.get("title")) for a in xquad["data"]) - HALF_TITLES
    return {"validation": claim_cases(read("squad2-dev-half.json"), VALIDATION_TITLES),
            "xquad (held out)": claim_cases(xquad, held_out)}


Read = list[tuple[str, float]]
"""For each claim: why the check refuses it before looking at support ("" = it does not), and
its support (the reader's probability that the cited sentence answers it)."""


def read_claims(cases: Sequence[ClaimCase]) -> Read:
    """Each claim through :func:`rag.verify.check_claim`, citing its one sentence; the reader
    reads each claim once, whatever threshold is applied afterwards."""
    from index.types import SentenceRecord
    from rag.markup import Segment
    from rag.reader import MODEL_DIR, get_reader
    from rag.types import Candidate
    from rag.verify import check_claim

    reader = get_reader(MODEL_DIR)
    out = []
    for c in cases:
        record = SentenceRecord(c.source, 0, 0, len(c.sentence), c.sentence, "e", "", "")
        evidence = [Candidate(record, 0.0, 0.0, 0.0, True)]
        _, support, reason = check_claim(Segment(c.claim, (1,)), evidence, reader, 0.0)
        out.append((reason, support))
    return out


def reasons(read: Read, min_support: float) -> list[str]:
    """Why each claim is refused with the support threshold ``min_support`` ("" = passed)."""
    return [reason or (f"support {support:.2f} < {min_support:.2f}"
                       if support < min_support else "") for reason, support in read]


def fit_threshold(cases: Sequence[ClaimCase], read: Read, keep: float = 0.95) -> float:
    """The reader threshold that keeps ``keep`` of the supported claims that pass every other
    check (the threshold is for what numbers, names and negations cannot tell)."""
    kept = sorted(support for c, (reason, support) in zip(cases, read, strict=True)
                  if c.kind == "supported" and not reason)
    return round(kept[int((1 - keep) * len(kept))], 2) if kept else 0.0


def thresholds() -> dict[str, float]:
    """The checks compared, by label: the whole check, and without the reader."""
    from rag.settings import Settings

    return {"numbers, names, negation, reader": Settings().claim_support_min,
            "numbers, names, negation (no reader)": 0.0}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.claims", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--fit", action="store_true",
                        help="print the reader threshold fitted on the validation claims")
    args = parser.parse_args(argv)
    try:
        claim_sets = sets(args.data_dir)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.fit:
        validation = claim_sets["validation"]
        print(f"RAG_CLAIM_SUPPORT_MIN={fit_threshold(validation, read_claims(validation))}")
        return 0
    rows: dict[str, dict[str, dict[str, tuple[int, int]]]] = {}
    for name, cases in claim_sets.items():
        read = read_claims(cases)
        rows[name] = {label: pass_rates(cases, reasons(read, t))
                      for label, t in thresholds().items()}
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
