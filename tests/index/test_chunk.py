import itertools
from pathlib import Path

from index.chunk import chunk_sentences, fit_sentences, tiktoken_counter
from index.embed import Embedder
from index.segment import split_sentences

SEED = Path("seeds/azernews-2023-01-23-landmines.txt")


def test_the_model_input_limit_is_read_from_the_model(embedder: Embedder) -> None:
    assert embedder.max_pieces == embedder.model.max_seq_length - 2 == 254


def test_chunks_hold_whole_sentences_within_limits(embedder: Embedder) -> None:
    text = SEED.read_text(encoding="utf-8")
    sentences = fit_sentences(split_sentences(text), text, embedder.max_pieces,
                              embedder.count_pieces)
    count = tiktoken_counter()
    pieces = embedder.count_pieces_many([s.text for s in sentences])
    assert pieces == [embedder.count_pieces(s.text) for s in sentences]
    chunks = chunk_sentences(sentences, text, 120, 30, [count(s.text) for s in sentences],
                             pieces, embedder.max_pieces)
    assert len(chunks) > 1
    covered = set()
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.start == c.sentences[0].start and c.end == c.sentences[-1].end
        assert embedder.count_pieces(c.text) <= embedder.max_pieces
        indexes = [s.index for s in c.sentences]
        assert indexes == list(range(indexes[0], indexes[-1] + 1))
        covered.update(indexes)
        if len(c.sentences) > 1:
            assert sum(count(s.text) for s in c.sentences) <= 120
    assert covered == set(range(len(sentences)))
    # consecutive chunks overlap by whole sentences
    overlaps = [set(s.index for s in a.sentences) & set(s.index for s in b.sentences)
                for a, b in itertools.pairwise(chunks)]
    assert any(overlaps)


def test_an_overlong_sentence_is_cut_into_pieces_that_fit(embedder: Embedder) -> None:
    text = "Intro. " + " ".join(f"word{i} and antidisestablishment" for i in range(400)) + "."
    sentences = fit_sentences(split_sentences(text), text, embedder.max_pieces,
                              embedder.count_pieces)
    assert len(sentences) > 2
    for s in sentences:
        assert text[s.start : s.end] == s.text
        assert embedder.count_pieces(s.text) <= embedder.max_pieces
    pieces = embedder.count_pieces_many([s.text for s in sentences])
    count = tiktoken_counter()
    chunks = chunk_sentences(sentences, text, 10_000, 0, [count(s.text) for s in sentences],
                             pieces, embedder.max_pieces)
    assert all(embedder.count_pieces(c.text) <= embedder.max_pieces for c in chunks)


def test_tiktoken_counts_offline() -> None:
    assert tiktoken_counter()("Hello world") == 2


def test_cutting_a_long_text_without_sentence_breaks_reads_it_a_bounded_number_of_times(
        embedder: Embedder) -> None:
    text = " ".join(f"word{i % 97}" for i in range(20_000))  # 130 KB, no sentence break
    read = 0

    def counting(piece: str) -> int:
        nonlocal read
        read += len(piece)
        return embedder.count_pieces(piece)

    sentences = fit_sentences(split_sentences(text), text, embedder.max_pieces, counting)
    assert len(sentences) > 50
    assert all(text[s.start : s.end] == s.text for s in sentences)
    assert read < 30 * len(text)  # linear: each cut reads a window, never the rest of the text
