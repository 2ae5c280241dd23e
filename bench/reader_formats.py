"""Does storing the reader's weights as float16 (or quantizing them to int8) change what it
ranks first? Compares ONNX files of one trained reader on the validation articles.

    python bench/reader_formats.py FP32.onnx [--limit 300]

FP32.onnx is a float32 export (``rag train --keep-fp32 PATH``); beside it this script makes the
float16-weights file the package ships (same conversion as training) and a dynamic int8
quantization, then reads, for each validation question, every sentence of its paragraph with
each, and reports the largest probability difference, how often the top sentence is the same,
and the time per question.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from index.embed import default_model_path
from rag.reader import Reader
from rag.training.data import TRAIN_FILE, VALIDATION_TITLES, read_articles


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("fp32", type=Path)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from rag.training.fit import half_weights

    articles = read_articles(args.data / TRAIN_FILE, titles=VALIDATION_TITLES)
    work = [(q.text, [a.passages[i] for i in q.paragraph]) for a in articles for q in a.questions]
    work = work[:: max(1, len(work) // args.limit)][:args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for name in ("fp32", "fp16", "int8"):
            folder = Path(tmp) / name
            folder.mkdir()
            tokenizer = default_model_path() / "tokenizer.json"
            (folder / "tokenizer.json").write_bytes(tokenizer.read_bytes())
            folders[name] = folder
        (folders["fp32"] / "reader.onnx").write_bytes(args.fp32.read_bytes())
        proto = onnx.load(str(args.fp32))
        half_weights(proto)
        onnx.save(proto, str(folders["fp16"] / "reader.onnx"))
        quantize_dynamic(str(args.fp32), str(folders["int8"] / "reader.onnx"),
                         weight_type=QuantType.QInt8)
        results = {}
        for name, folder in folders.items():
            reader = Reader(folder, threads=1)
            t = time.perf_counter()
            probs = [reader.probabilities(q, ps) for q, ps in work]
            results[name] = (probs, (time.perf_counter() - t) / len(work),
                             (folder / "reader.onnx").stat().st_size)
    ref = results["fp32"][0]
    print(f"{len(work)} validation questions, {sum(len(p) for _, p in work)} sentences")
    print("| weights | file MB | ms / question | max prob diff | same top sentence |")
    print("|---|---:|---:|---:|---:|")
    for name, (probs, seconds, size) in results.items():
        diff = max(float(np.abs(p - r).max()) for p, r in zip(probs, ref, strict=True))
        top = np.mean([int(np.argmax(p)) == int(np.argmax(r))
                       for p, r in zip(probs, ref, strict=True)])
        print(f"| {name} | {size / 1e6:.1f} | {seconds * 1000:.0f} | {diff:.4f} "
              f"| {100 * top:.1f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
