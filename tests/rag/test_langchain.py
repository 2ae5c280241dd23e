from pathlib import Path

from rag.langchain import CitedSentenceRetriever, ask_runnable
from rag.pipeline import Engine


def test_retriever_returns_sentences_with_exact_offsets(seed_engine: Engine) -> None:
    docs = CitedSentenceRetriever(engine=seed_engine, k=3).invoke("Who examined the landmines?")
    assert len(docs) == 3
    assert "military personnel and specialists" in docs[0].page_content
    for d in docs:
        text = Path(d.metadata["source"]).read_text(encoding="utf-8")
        assert text[d.metadata["start"] : d.metadata["end"]] == d.page_content


def test_runnable_answers_like_ask(seed_engine: Engine) -> None:
    chain = ask_runnable(seed_engine)
    q = "Which news agency interviewed Ararat Mirzoyan?"
    assert chain.invoke(q) == seed_engine.ask(q)
    follow = chain.invoke({"question": "When was that?", "history": [(q, "Armenpress")]})
    assert follow.citations and "January 20, 2023" in follow.citations[0].text
