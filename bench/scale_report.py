"""The Markdown tables of ``bench/scale.py`` and their section in bench/RESULTS.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

BEGIN = "<!-- scale:begin (written by bench/scale.py) -->"
END = "<!-- scale:end -->"


def ms(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, q))


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _s(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _after(a: dict[str, Any] | None) -> str:
    if not a:
        return "not run | "
    return (f"{a['first_s']:.2f} ({a['files']}, {_n(a['chunks'])}) | "
            f"{a['index_s']:.1f} / {a['encoder_s']:.1f} = **{a['index_s'] / a['encoder_s']:.2f}**")


def tables(results: dict[str, Any], order: list[str]) -> str:
    rows = [results[k] for k in order if k in results]
    out = ["### Indexing: the whole pipeline into a collection of N chunks, beside the raw encoder",
           "",
           "| size | chunks in collection | increment (chunks) | pipeline chars/s | "
           "raw encoder chars/s | ratio (goal ≥ 0.8) | rounds' ratios | ratio, CPU time | "
           "bulk build s (chunks/s) | run |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        i, b = r.get("index"), r["build"]
        run = r["run_at"] + (f", {i['backend']}" if i and i.get("backend") else "")
        bulk = (f"{b['seconds']:,.0f} ({b['chunks'] / b['seconds']:,.0f}) {b['kind']}"
                if b.get("seconds") else b["kind"])
        if i:
            rounds = ", ".join(f"{x['ratio']:.2f}" for x in i["rounds"])
            out.append(f"| {r['label']} | {_n(r['chunks'])} | {_n(i['increment_chunks'])} | "
                       f"{_n(i['pipeline_chars_s'])} | {_n(i['encoder_chars_s'])} | "
                       f"**{i['ratio']:.2f}** | {rounds} | "
                       f"{i['ratio_cpu']:.2f} | {bulk} | {run} |")
        else:
            out.append(f"| {r['label']} | {_n(r['chunks'])} | not run | | | | | | {bulk} | "
                       f"{run} |")
    out += ["", "### Warm query latency: `ask()` beside stock LangChain `similarity_search(k=4)`",
            "",
            "| size | chunks | ask() p50 ms | ask() p95 ms | stock p50 ms | stock p95 ms | "
            "p50 ratio (goal ≤ 2 at 100k) | ask() warm-up at start s | first ask() s | "
            "first stock s | answered | "
            "first ask() after adding files s (files, chunks) | that run s / encoder s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        q = r.get("query")
        if not q:
            continue
        ratio = float(np.median(q["ours_s"]) / np.median(q["stock_s"]))
        out.append(f"| {r['label']} | {_n(r['chunks'])} | {ms(q['ours_s'], 50):.1f} | "
                   f"{ms(q['ours_s'], 95):.1f} | {ms(q['stock_s'], 50):.1f} | "
                   f"{ms(q['stock_s'], 95):.1f} | **{ratio:.2f}** | "
                   f"{_s(q.get('ours_warm_s'))} | "
                   f"{q['ours_first_s']:.2f} | {q['stock_first_s']:.2f} | "
                   f"{q['answered']}/{q['questions']} | {_after(q.get('after_add'))} |")
    out += ["", "### Memory (peak RSS, MB) and disk (MB)", "",
            "| size | ask() process | stock query process | ratio | indexing process | "
            "encoder alone | bulk build process | disk: ours | "
            "disk: stock LangChain, same chunks | ratio | disk: lexical | lexical repair s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        q, i = r.get("query") or {}, r.get("index") or {}
        serve = (f"{_n(q['ours_peak_rss_mb'])} | {_n(q['stock_peak_rss_mb'])} | "
                 f"{q['ours_peak_rss_mb'] / q['stock_peak_rss_mb']:.2f}" if q else " | | ")
        index = (f"{_n(i['indexing_peak_rss_mb'])} | {_n(i['encoder_peak_rss_mb'])}"
                 if i else " | ")
        stock = r.get("disk_stock_mb")
        disk = (f"{_n(r['disk_ours_mb'])} | {_n(stock)} | {r['disk_ours_mb'] / stock:.2f}"
                if stock else f"{_n(r['disk_ours_mb'])} | not built | ")
        lex = r.get("disk_lexical_mb")
        repair = r.get("repair")
        extra = (f"{_n(lex) if lex is not None else ''} | "
                 f"{repair['seconds']:.1f} ({repair['said'].split(': ')[-1]})" if repair
                 else " | ")
        bulk_rss = _n(r["build"]["peak_rss_mb"]) if r["build"].get("peak_rss_mb") else "–"
        out.append(f"| {r['label']} | {serve} | {index} | {bulk_rss} | "
                   f"{disk} | {extra} |")
    out += ["", "Time each size took in its run (queries, indexing increments, and the bulk "
            "build and stock copy unless cached): " + ", ".join(
                f"{r['label']} {r['seconds'] / 60:.1f} min" for r in rows) + "."]
    stale = [r["label"] for r in rows
             if r["build"].get("index_code") != r.get("index_code_now", r["build"]["index_code"])]
    if stale:
        out += ["", f"The cached collections of {', '.join(stale)} were built by other indexing "
                "code than the one measured (their rows' indexing figures are current; "
                "`--fresh` rebuilds them)."]
    return "\n".join(out)


def update_results(path: Path, section: str) -> None:
    """Replace the scale section of RESULTS.md (or insert it before the first other section)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    block = f"{BEGIN}\n{section.strip()}\n{END}"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: block, text,
                      flags=re.S)
    else:
        at = text.find("\n## ")
        text = (text.rstrip() + "\n\n" + block + "\n" if at < 0
                else text[: at + 1] + block + "\n\n" + text[at + 1 :])
    path.write_text(text, encoding="utf-8")
