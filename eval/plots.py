"""The report's figures (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.report import SystemSummary
from eval.runner import CaseResult

Summaries = dict[str, dict[str, SystemSummary]]
_COLORS = {"ours": "#1f77b4", "baseline": "#ff7f0e"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def metrics_plot(summaries: Summaries, path: Path) -> Path:
    """Citation precision, recall, F1 and exact-set match per dataset, ours vs the baseline."""
    plt = _pyplot()
    names = list(summaries)
    metrics = (("precision", "citation precision"), ("recall", "citation recall"),
               ("f1", "citation F1"), ("exact", "exact-set match"))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 4.2), sharey=True)
    width = 0.38
    for ax, (field, title) in zip(axes, metrics, strict=True):
        for i, system in enumerate(("ours", "baseline")):
            xs, ys = [], []
            for j, name in enumerate(names):
                summary = summaries[name].get(system)
                value = getattr(summary.citations, field) if summary else None
                if value is not None:
                    xs.append(j + (i - 0.5) * width)
                    ys.append(value)
            ax.bar(xs, ys, width, label=system, color=_COLORS[system])
            for x, y in zip(xs, ys, strict=True):
                ax.text(x, y + 0.01, f"{y:.2f}", ha="center", va="bottom", fontsize=7)
        ax.set_title(title)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1.08)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def score_plot(results: Sequence[CaseResult], threshold: float, path: Path) -> Path:
    """Our support score for answerable vs unanswerable questions, threshold marked."""
    plt = _pyplot()
    ours = [r for r in results if r.system == "ours" and r.score is not None]
    names = list(dict.fromkeys(r.dataset for r in ours)) or ["(none)"]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.6), squeeze=False)
    bins = [i / 40 for i in range(41)]
    for ax, name in zip(axes[0], names, strict=True):
        rows = [r for r in ours if r.dataset == name]
        for answerable, label, color in ((True, "answerable", "#2ca02c"),
                                         (False, "unanswerable", "#d62728")):
            scores = [float(r.score or 0.0) for r in rows if r.answerable == answerable]
            if scores:
                ax.hist(scores, bins=bins, alpha=0.6, label=f"{label} ({len(scores)})",
                        color=color, density=True)
        ax.axvline(threshold, color="black", linestyle="--", label=f"refuse below {threshold}")
        ax.set_title(name)
        ax.set_xlabel("support score of the best sentence")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("density")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def topk_plot(summaries: Summaries, path: Path) -> Path:
    """Citation precision and recall when the top k sentences are cited, k = 1..5."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    cmap = plt.get_cmap("tab10")
    for i, (name, systems) in enumerate(summaries.items()):
        color = cmap(i % 10)
        for system, style, marker in (("ours", "-", "o"), ("baseline", ":", "s")):
            summary = systems.get(system)
            if summary is None:
                continue
            ks = [p.k for p in summary.curve]
            for ax, field in zip(axes, ("precision", "recall"), strict=True):
                values = [getattr(p, field) for p in summary.curve]
                if any(v is not None for v in values):
                    ax.plot(ks, [v if v is not None else float("nan") for v in values], style,
                            marker=marker, markersize=4, color=color,
                            label=f"{name} ({system})")
            if system == "ours" and summary.citations.mean_cited is not None:
                for ax, field in zip(axes, ("precision", "recall"), strict=True):
                    value = getattr(summary.citations, field)
                    if value is not None:
                        ax.plot([summary.citations.mean_cited], [value], marker="*",
                                markersize=13, color=color, linestyle="none")
    for ax, field in zip(axes, ("precision", "recall"), strict=True):
        ax.set_title(f"citation {field} of the top-k sentences")
        ax.set_xlabel("k (sentences cited)")
        ax.set_xticks(range(1, 6))
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="center right")
    fig.text(0.5, 0.005, "lines: fixed top-k (ours: candidates by score; baseline: retrieved "
             "chunks' sentences in order); stars: what ours actually cites (mean count)",
             ha="center", fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 0.8, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
