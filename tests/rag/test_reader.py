"""The reader's input layout and its shipped model (loaded offline, no torch)."""

import subprocess
import sys
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from index.errors import ConfigError
from rag.reader import (
    CONTEXT_PIECES,
    MODEL_DIR,
    TOKENIZER_FILE,
    Passage,
    ReaderConfig,
    encode_pairs,
    title_of,
)


def tokenizer() -> Tokenizer:
    tok = Tokenizer.from_file(str(MODEL_DIR / TOKENIZER_FILE))
    tok.no_padding()
    tok.no_truncation()
    return tok


def test_titles_come_from_file_names() -> None:
    assert title_of("docs/espresso-manual.md") == "espresso manual"
    assert title_of("Super_Bowl_50.txt") == "Super Bowl 50"
    assert title_of("notes") == "notes"


def test_pairs_read_question_then_sentence_then_context() -> None:
    tok = tokenizer()
    batch = encode_pairs(tok, ["who won?", "when?"],
                         [Passage("Anna won the race.", "race report", "It rained all day."),
                          Passage("In 1932.", "bridge")])
    first = tok.decode(batch.input_ids[0].tolist(), skip_special_tokens=False)
    assert first.startswith("[CLS] who won? [SEP] anna won the race. [SEP] race report : "
                            "it rained all day. [SEP]")
    assert batch.token_type_ids[0].tolist()[:5] == [0, 0, 0, 0, 0]
    assert batch.attention_mask[1].sum() < batch.attention_mask[0].sum()  # padded to the longest
    assert batch.input_ids[1, batch.attention_mask[1].sum():].tolist() == [0] * (
        batch.input_ids.shape[1] - int(batch.attention_mask[1].sum()))


def test_long_inputs_keep_the_sentence_and_the_end_of_the_context() -> None:
    tok = tokenizer()
    sentence = "The answer is here. " * 10
    prev = " ".join(f"word{i}" for i in range(200)) + " closing words"
    batch = encode_pairs(tok, ["q " * 100], [Passage(sentence, "a title", prev)], max_pieces=128)
    ids = batch.input_ids[0].tolist()
    assert len(ids) <= 128
    text = tok.decode(ids, skip_special_tokens=False)
    assert "the answer is here. the answer is here." in text
    assert text.endswith("closing words [SEP]")
    context = text.split("[SEP]")[2]
    assert len(tok.encode(context, add_special_tokens=False).ids) <= CONTEXT_PIECES


def test_the_shipped_reader_is_small_and_configured() -> None:
    size = (MODEL_DIR / "reader.onnx").stat().st_size
    assert size <= 50 * 1024 * 1024
    config = ReaderConfig.load()
    assert 0 < config.threshold < 1 and config.candidates > 0


def test_serving_imports_no_torch() -> None:
    code = ("import sys; from rag.reader import get_reader, Passage; "
            "r = get_reader(); p = r.probabilities('When did it open?', "
            "[Passage('It opened in 1932.', 'bridge')]); "
            "assert 0 <= float(p[0]) <= 1; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_broken_settings_file_is_our_error(tmp_path: Path) -> None:
    bad = tmp_path / "scoring.json"
    bad.write_text('{"reader": {"threshold": "x"}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="rerun python -m rag"):
        ReaderConfig.load(bad)
