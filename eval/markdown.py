"""REPORT.md: headline tables, reference points, figures, failing cases, definitions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from eval.metrics import FAILURE_KINDS, failure_kind
from eval.report import REFERENCE, SystemSummary
from eval.runner import TOP_K, CaseResult, DatasetRun

Summaries = dict[str, dict[str, SystemSummary]]
FAILS_BEGIN = "<!-- BEGIN where-the-system-fails -->"
FAILS_END = "<!-- END where-the-system-fails -->"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def ms(value: float | None) -> str:
    return "–" if value is None else f"{1000 * value:.0f}"


def headline(summaries: Summaries) -> list[str]:
    lines = [
        "| dataset | system | questions | cit. P | cit. R | cit. F1 | exact set | P when citing "
        "| cited/answer | verbatim | answer EM | answer F1 | answer contained | refusal P "
        "| refusal R | false refusals | follow-ups | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        "---:|",
    ]
    for name, systems in summaries.items():
        for system, s in systems.items():
            c, a, r = s.citations, s.answers, s.refusals
            mean = "–" if c.mean_cited is None else f"{c.mean_cited:.1f}"
            lines.append(
                f"| {name} | {system} | {s.cases} | {pct(c.precision)} | {pct(c.recall)} "
                f"| {pct(c.f1)} | {pct(c.exact)} | {pct(c.precision_answered)} | {mean} "
                f"| {pct(s.verbatim.rate)} | {pct(a.exact_match)} | {pct(a.f1)} "
                f"| {pct(a.contained)} | {pct(r.precision)} | {pct(r.recall)} "
                f"| {pct(r.false_refusal_rate)} | {pct(s.follow_ups)} | {ms(s.latency.p50)} "
                f"| {ms(s.latency.p95)} |")
    return lines


def _pooled_precision(summaries: Summaries, system: str) -> float | None:
    total = weight = 0.0
    for systems in summaries.values():
        s = systems.get(system)
        if s and s.citations.precision_answered is not None:
            total += s.citations.precision_answered * s.citations.answered
            weight += s.citations.answered
    return total / weight if weight else None


def references(summaries: Summaries) -> list[str]:
    hot = next((v for k, v in summaries.items() if k.endswith("distractor")), {})
    hp = REFERENCE["HotpotQA distractor, supporting-fact F1"]
    alce = REFERENCE["ALCE (ASQA), citation precision"]

    def f1(system: str) -> str:
        s = hot.get(system)
        return pct(s.citations.f1) if s else "–"

    return [
        "| reference point | published | ours | baseline |",
        "|---|---:|---:|---:|",
        f"| HotpotQA distractor supporting-fact F1 (best published / original baseline) "
        f"| {hp['best published (Beam Retrieval)']:.1f} / {hp['original HotpotQA baseline']:.1f} "
        f"| {f1('ours')} | {f1('baseline')} |",
        f"| ALCE citation precision (ChatGPT / GPT-4) | {alce['ChatGPT']:.1f} / "
        f"{alce['GPT-4']:.1f} | {pct(_pooled_precision(summaries, 'ours'))} "
        f"| {pct(_pooled_precision(summaries, 'baseline'))} |",
        "",
        "Ours / baseline in the HotpotQA row: citation F1 on the first 100 dev questions, "
        "distractor setting, where a cited sentence counts when it overlaps a supporting fact "
        "(our sentence splitter, not HotpotQA's sentences). ALCE row: citation precision over "
        "the questions that cited something, pooled over all datasets in this run; ALCE scores "
        "generated statements with an NLI model, so this is a loose comparison, not a like-for-"
        "like one.",
    ]


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_kinds(runs: Sequence[DatasetRun], system: str = "ours") -> list[str]:
    """A table: per dataset, how many of ``system``'s answers failed, by kind
    (:func:`eval.metrics.failure_kind`), as a share of the dataset's questions."""
    head = ["| dataset | questions | " + " | ".join(FAILURE_KINDS) + " |",
            "|---|---:|" + "---:|" * len(FAILURE_KINDS)]
    rows = []
    for run in runs:
        mine = [r for r in run.results if r.system == system]
        if not mine:
            continue
        kinds = Counter(failure_kind(r.answerable, r.refused, [c[:3] for c in r.citations],
                                     r.ranked, r.gold) for r in mine)
        cells = [f"{kinds[k]} ({pct(kinds[k] / len(mine))} %)" if kinds[k] else "0"
                 for k in FAILURE_KINDS]
        rows.append(f"| {run.dataset.name} | {len(mine)} | " + " | ".join(cells) + " |")
    return [*head, *rows]


def failures(cases: Sequence[CaseResult], runs: Sequence[DatasetRun]) -> list[str]:
    lines = [FAILS_BEGIN, "",
             "Every failure of our system in this run, by where the answer was lost: a *candidate* "
             f"is one of the {TOP_K} sentences the system ranked highest for the question (so "
             "\"not retrieved\" also counts a gold sentence ranked below them); an answer is "
             "right when a cited sentence overlaps the gold one.", "",
             *failure_kinds(runs), "", FAILS_END, "",
             "Failing cases picked automatically from this run (our system):", ""]
    for i, r in enumerate(cases, start=1):
        if r.refused:
            what = f"refused (best support {r.score:.3f})" if r.score is not None else "refused"
        else:
            cited = " / ".join(f"“{_short(c[3], 200)}”" for c in r.citations)
            what = f"cited {cited} (support {r.score or 0:.3f})"
        gold = " / ".join(f"“{_short(g, 200)}”" for g in r.gold_text) or (
            "none: the question is unanswerable, the right outcome is a refusal")
        lines += [f"{i}. **{r.dataset} `{r.case_id}`**: {r.question}", f"   - we {what}",
                  f"   - gold: {gold}"]
    if not cases:
        lines.append("(no failing cases in this run)")
    return lines


def datasets_section(runs: Sequence[DatasetRun]) -> list[str]:
    lines = ["| dataset | questions | answerable | unanswerable | collections | documents "
             "| sentences | index s (ours) | index s (baseline) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        d = run.dataset
        n_ok = sum(c.answerable for c in d.cases)
        lines.append(f"| {d.name} | {len(d.cases)} | {n_ok} | {len(d.cases) - n_ok} "
                     f"| {len(d.corpora)} | {run.documents} | {run.sentences} "
                     f"| {run.index_seconds:.1f} | {run.baseline_index_seconds:.1f} |")
    return lines


DEFINITIONS = """\
- **cit. P / R / F1**: per question, a cited sentence is correct when its span overlaps a gold
  evidence span of the same document, and a gold span is found when a cited sentence overlaps
  it; precision, recall and F1 are computed per question and averaged over the answerable
  questions (as HotpotQA's supporting-fact score). A refusal cites nothing and scores 0.
- **exact set**: every cited sentence is gold and every gold sentence is cited.
- SQuAD-format gold is the one sentence holding the annotated answer span; another sentence
  stating the same fact counts as wrong, so precision here is a lower bound.
- **P when citing**: precision averaged only over questions that cited something;
  **cited/answer**: mean number of sentences cited when citing.
- **verbatim**: citations whose text equals the document's text at their offsets (must be 100).
- **answer EM / F1** (SQuAD normalisation): ours, the highlighted phrase of the first citation
  when there is one, else the answer text; the baseline has no answer extraction, so its
  "answer" is the text of all its cited sentences. **answer contained**: a gold answer appears
  in the answer text. Averaged over answerable questions; a refusal scores 0.
- **refusal P**: refusals that were right (unanswerable question); **refusal R**: unanswerable
  questions refused; **false refusals**: answerable questions refused.
- **follow-ups**: questions asked with earlier turns that were handled right: an answerable one
  answered citing at least one gold sentence, an unanswerable one refused.
- **p50 / p95 ms**: time per question (one at a time, the model on one thread)."""


def answering(run: dict[str, Any]) -> str:
    """Which answerer produced the ``ours`` rows (and the ``rules`` rows, when present)."""
    answerer = str(run.get("answerer", "extractive"))
    if answerer.strip().lower() != "extractive":
        first = f"Answering (ours): the chat model `{answerer}`, checked claim by claim"
        fell = [f"{name} {d.get('fallbacks', 0)} of {d['cases']}"
                for name, d in run.get("datasets", {}).items()]
        if fell:
            first += ("; answers that fell back to the extractive answer (the model's was not "
                      f"used): {', '.join(fell)}")
    elif run.get("reader", True):
        first = ("Answering (ours): extractive with the trained reader (rag/models/reader), "
                 f"refusal below probability {run['refuse_below']}")
    else:
        first = ("Answering (ours): extractive with the hand rules, refusal below support "
                 f"{run['refuse_below']}")
    rules = run.get("rules_refuse_below")
    if rules is not None:
        first += (f"; rules: the hand-rule answerer the reader replaced (rag/rules.py), "
                  f"refusal below support {rules}")
    return first


def render(summaries: Summaries, runs: Sequence[DatasetRun], fails: Sequence[CaseResult],
           run: dict[str, Any], figures: dict[str, str]) -> str:
    wall = float(run["wall_seconds"])
    lines = [
        "# Citation-accuracy evaluation", "",
        f"Generated by `{run['command']}` on {run['date']} in **{wall / 60:.1f} minutes** "
        f"({run['cpus']} CPUs). {answering(run)}, at most {run['max_citations']} citations; "
        f"embedding model {run['model']}. Baseline: {run['baseline']}.", "",
        "## Results", "", *headline(summaries), "",
        "## Reference points", "", *references(summaries), "",
        "## Figures", "",
    ]
    captions = {
        "metrics": "Citation metrics per dataset, ours vs the baseline.",
        "scores": "Support score of our best sentence, answerable vs unanswerable questions; "
                  "the dashed line is the refusal threshold.",
        "topk": "Citation precision and recall as the number of cited sentences varies.",
    }
    for key, file in figures.items():
        lines += [f"![{captions.get(key, key)}]({file})", "", f"_{captions.get(key, key)}_", ""]
    lines += ["## Where the system fails", "", *failures(fails, runs), "",
              "## Datasets", "", *datasets_section(runs), "",
              "HotpotQA runs twice: *distractor* (each question against its own 10 paragraphs, "
              "one collection each) and *open* (all paragraphs in one collection).", "",
              "## Definitions", "", DEFINITIONS, "",
              "## Reproduce", "", "```", "make eval    # = rag eval --out eval/report", "```",
              "Per-case results: `cases.jsonl`; every figure above: `summary.json`.", ""]
    return "\n".join(lines)
