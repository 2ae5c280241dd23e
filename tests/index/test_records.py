"""Encoding of chunk records: the packed sentence vectors and the sentences read back."""

import numpy as np

from index.records import chunk_record, pack_vectors, unpack_vectors

TEXT = "The mill stands by the river. It was built in 1820."
META = {"source": "mill.txt", "doc_sha": "ab", "start": 10, "first": 3,
        "sentence_ids": "s3,s4", "spans": "0:29,30:51", "prev": "Before it."}


def test_packed_vectors_round_trip_within_float16() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(3, 8)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    packed = pack_vectors(rows)
    assert len(packed) == 3 * 8 * 2
    back = unpack_vectors(packed, 3)
    assert back.dtype == np.float32 and back.shape == (3, 8)
    assert np.allclose(back, rows, atol=1e-3)
    assert unpack_vectors(b"", 2).shape == (2, 0)


def test_a_chunk_record_gives_its_sentences_and_their_vectors() -> None:
    rows = np.eye(2, 4, dtype=np.float32)
    chunk = chunk_record("c1", TEXT, META, pack_vectors(rows))
    assert [(s.index, s.start, s.end, s.text) for s in chunk.sentences] == [
        (3, 10, 39, "The mill stands by the river."), (4, 40, 61, "It was built in 1820.")]
    assert [s.prev for s in chunk.sentences] == ["Before it.", "The mill stands by the river."]
    assert chunk.sentence_ids == ("s3", "s4") and chunk.key == ("mill.txt", "ab")
    assert np.array_equal(chunk.vectors, rows)
    assert chunk_record("c1", TEXT, META).vectors.shape == (2, 0)
