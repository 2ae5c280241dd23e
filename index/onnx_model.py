"""The ONNX backend of the embedder: onnxruntime and ``tokenizers``, no torch when serving.

The sentence-transformers model (transformer, mean pooling, L2 normalization) is exported once,
offline, with torch, into a cache folder keyed by the model folder's fingerprint; every later
process loads only that ONNX file and the model's ``tokenizer.json``. Before an export is kept
its vectors and word-piece counts are compared with sentence-transformers' on probe sentences.
The file is written to a temporary name and renamed into place, so concurrent exports cannot
leave a half-written file; the settings the runtime needs travel inside it (ONNX metadata).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.errors import OnnxUnavailable

Vectors = npt.NDArray[np.float32]

EXPORT_FORMAT = "1"
"""Bump when the exported graph or its metadata change: old cache files are then ignored."""
OPSET = 17
MAX_EXPORT_DIFF = 1e-4
"""Largest absolute difference from sentence-transformers' vectors an export may have."""
FILE_NAME = "model.onnx"
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "sentence_embedding"
PROBES = (
    "How many people were killed?",
    "Landmines planted during the occupation have killed or wounded hundreds of civilians.",
    "  Leading and trailing spaces, Crème brûlée, naïve café, 中文字符, emoji 😀.  ",
    "x",
    " ".join(["a long sentence that runs past the model's input limit"] * 40),
)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/cited-rag/onnx`` (``~/.cache/cited-rag/onnx`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder
            base = tempfile.gettempdir()
    return Path(base) / "cited-rag" / "onnx"


def default_threads() -> int:
    """Intra-op threads: ``OMP_NUM_THREADS`` when set, else one on up to two cores, else half.

    Measured on the shared 2-core machine (bench/onnx_bench.py, bench/out/onnx_bench.md):
    one thread encodes batches faster than two (1.74x vs 1.23x torch's throughput) and single
    queries about as fast (9.2 vs 9.0 ms), and it leaves the other core to the rest of the
    request (Chroma, BM25, other users).
    """
    cores = available_cores()
    return requested_threads() or (1 if cores <= 2 else min(4, cores // 2))


def requested_threads() -> int | None:
    """``OMP_NUM_THREADS`` when set to a positive number."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def fingerprint(model_path: Path) -> str:
    """A hash of the model folder: its path, each file's name, size and modification time,
    and the content of its small (configuration) files. A changed model gets a new hash.

    Weight files are identified by size and time rather than hashed: hashing 90 MB would add
    about 0.1 s to every cold start.
    """
    root = model_path.resolve()
    digest = hashlib.sha256(f"cited-rag onnx export {EXPORT_FORMAT} opset {OPSET}\n".encode())
    digest.update(f"{root}\n".encode())
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if rel.startswith(("onnx/", "openvino/", ".")):
            continue
        stat = file.stat()
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        if stat.st_size <= 1 << 20:
            digest.update(file.read_bytes())
    return digest.hexdigest()


def cached_path(model_path: Path, cache_dir: Path | None = None) -> Path:
    """Where the export of ``model_path`` lives: one folder per model fingerprint."""
    root = model_path.resolve()
    name = "-".join(part for part in (root.parent.name, root.name) if part)
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[-60:]
    return (cache_dir or default_cache_dir()) / f"{slug}-{fingerprint(model_path)[:16]}" / FILE_NAME


def load(model_path: Path, cache_dir: Path | None = None,
         threads: int | None = None) -> tuple[OnnxEncoder, str | None]:
    """The ONNX encoder of ``model_path``, exported first if the cache has no usable file.

    Returns the encoder and a note when a cached file was unusable and was exported again.
    Raises :class:`OnnxUnavailable` when onnxruntime is missing or the export fails.
    """
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as exc:
        raise OnnxUnavailable(f"{exc.name or 'onnxruntime'} is not installed "
                              "(pip install onnxruntime tokenizers onnx)") from exc
    if not (model_path / "tokenizer.json").is_file():
        raise OnnxUnavailable(f"{model_path} has no tokenizer.json (a fast tokenizer is needed)")
    try:
        target = cached_path(model_path, cache_dir)
    except OSError as exc:
        raise OnnxUnavailable(f"cannot read the model folder {model_path}: {exc}") from exc
    note = None
    if target.exists():
        try:
            return OnnxEncoder(model_path, target, threads), None
        except OnnxUnavailable as exc:
            note = f"the cached ONNX model {target} is unusable ({exc}); exported it again"
    export(model_path, target)
    return OnnxEncoder(model_path, target, threads), note


class OnnxEncoder:
    """Encodes like sentence-transformers' ``encode(normalize_embeddings=True)``: same
    tokenization (truncation at ``max_seq_length``, same special tokens), length-sorted
    batches, mean pooling over the attention mask and L2 normalization inside the graph."""

    backend = "onnx"

    def __init__(self, model_path: Path, onnx_path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.onnx_path = onnx_path
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # idle threads sleep instead of spinning (the OMP_WAIT_POLICY=PASSIVE of onnxruntime)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(onnx_path), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's errors derive from Exception only
            raise OnnxUnavailable(f"onnxruntime cannot load {onnx_path}: {exc}") from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("cited_rag_format") != EXPORT_FORMAT:
            raise OnnxUnavailable(f"{onnx_path} is not a format-{EXPORT_FORMAT} export")
        names = [i.name for i in self.session.get_inputs()]
        if sorted(names) != sorted(INPUTS) or self.session.get_outputs()[0].name != OUTPUT:
            raise OnnxUnavailable(f"{onnx_path} has unexpected inputs or outputs")
        tokenizer_file = str(model_path / "tokenizer.json")
        try:
            self.max_seq_length = int(meta["max_seq_length"])
            self._dimension = int(meta["dimension"])
            self.do_lower_case = meta.get("do_lower_case") == "true"
            self._encoder = Tokenizer.from_file(tokenizer_file)
            self._encoder.enable_truncation(max_length=self.max_seq_length)
            self._encoder.enable_padding(pad_id=int(meta["pad_token_id"]),
                                         pad_token=meta["pad_token"])
            self._counter = Tokenizer.from_file(tokenizer_file)
            self._counter.no_truncation()
            self._counter.no_padding()
        except (KeyError, ValueError) as exc:
            raise OnnxUnavailable(f"{onnx_path} lacks its settings: {exc}") from exc
        except Exception as exc:  # tokenizers' errors derive from Exception only
            raise OnnxUnavailable(f"cannot read {tokenizer_file}: {exc}") from exc

    @property
    def dimension(self) -> int:
        return self._dimension

    def count_pieces(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def count_pieces_many(self, texts: Sequence[str]) -> list[int]:
        encodings = self._counter.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def encode(self, texts: Sequence[str], batch_size: int) -> Vectors:
        """Unit vectors, in order; batches of similar length (less padding), as ST does."""
        items = [t.lower() for t in texts] if self.do_lower_case else list(texts)
        order = np.argsort([-len(t) for t in items], kind="stable")
        out = np.empty((len(items), self._dimension), dtype=np.float32)
        step = max(1, batch_size)
        for start in range(0, len(items), step):
            rows = order[start : start + step]
            encodings = self._encoder.encode_batch([items[i] for i in rows])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            }
            out[rows] = self.session.run([OUTPUT], feed)[0]
        return out


def export(model_path: Path, target: Path) -> None:
    """Export ``model_path`` to ``target`` (checked first, then renamed into place)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise OnnxUnavailable(f"cannot write the ONNX cache folder {target.parent}: {exc}") from exc
    tmp = Path(name)
    try:
        _export_checked(model_path, tmp)
        tmp.replace(target)
    except OnnxUnavailable:
        raise
    except Exception as exc:  # torch/onnx raise many kinds; any of them means "no ONNX here"
        raise OnnxUnavailable(f"exporting {model_path} to ONNX failed: "
                              f"{type(exc).__name__}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _export_checked(model_path: Path, tmp: Path) -> None:
    import onnx
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # eager attention exports to plain ONNX ops that onnxruntime fuses well
    st: Any = SentenceTransformer(str(model_path), device="cpu", local_files_only=True,
                                  model_kwargs={"attn_implementation": "eager"})
    modules = list(st)
    kinds = [type(m).__name__ for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or kinds[2:] not in ([], ["Normalize"]):
        raise OnnxUnavailable(f"unsupported module layout {kinds} (needs Transformer, Pooling "
                              "and optionally Normalize)")
    pooling = modules[1]
    mode = getattr(pooling, "pooling_mode", None)
    if mode is None and getattr(pooling, "pooling_mode_mean_tokens", False):
        mode = "mean"
    if mode != "mean":
        raise OnnxUnavailable(f"unsupported pooling {mode!r} (only mean pooling is exported)")
    tokenizer = st.tokenizer
    if tokenizer.pad_token is None or tokenizer.pad_token_id is None:
        raise OnnxUnavailable("the tokenizer has no padding token")
    wrapper = _mean_pooled(modules[0].auto_model,
                           "token_type_ids" in tokenizer.model_input_names).eval()
    sample = tokenizer(list(PROBES[:2]), padding=True, return_tensors="pt")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper, (sample["input_ids"], sample["attention_mask"]), str(tmp), dynamo=False,
            input_names=list(INPUTS), output_names=[OUTPUT], opset_version=OPSET,
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                          "attention_mask": {0: "batch", 1: "sequence"},
                          OUTPUT: {0: "batch"}},
            do_constant_folding=True,
        )
    get_dim = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
    dimension = get_dim()
    proto = onnx.load(str(tmp))
    onnx.helper.set_model_props(proto, {
        "cited_rag_format": EXPORT_FORMAT,
        "max_seq_length": str(int(st.max_seq_length)),
        "dimension": str(int(dimension)),
        "pad_token": str(tokenizer.pad_token),
        "pad_token_id": str(int(tokenizer.pad_token_id)),
        "do_lower_case": "true" if getattr(modules[0], "do_lower_case", False) else "false",
        "source": json.dumps({"model_path": str(model_path.resolve()),
                              "fingerprint": fingerprint(model_path),
                              "torch": torch.__version__}),
    })
    onnx.save(proto, str(tmp))

    encoder = OnnxEncoder(model_path, tmp, threads=1)
    probes = list(PROBES)
    want = st.encode(probes, batch_size=len(probes), normalize_embeddings=True,
                     convert_to_numpy=True, show_progress_bar=False)
    diff = float(np.abs(encoder.encode(probes, len(probes)) - want).max())
    if not diff <= MAX_EXPORT_DIFF:
        raise OnnxUnavailable(f"the exported model's vectors differ from sentence-transformers' "
                              f"by {diff:.2g} (allowed {MAX_EXPORT_DIFF:g})")
    pieces = [len(x) for x in tokenizer(probes, add_special_tokens=False)["input_ids"]]
    if encoder.count_pieces_many(probes) != pieces:
        raise OnnxUnavailable("tokenizer.json counts word pieces differently from the model's "
                              "tokenizer")


def _mean_pooled(bert: Any, token_types: bool) -> Any:
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            extra = {"token_type_ids": torch.zeros_like(input_ids)} if token_types else {}
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               **extra).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    return MeanPooled()
