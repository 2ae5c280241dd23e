# Two commands do all set-up: `make run` (the chat on the seed corpus) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test test-llm lint chat eval train bench bench-index bench-load bench-reader bench-robust bench-memory clean

$(BIN)/rag: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[test,llm,eval]'
	touch $(BIN)/rag

run: $(BIN)/rag
	$(BIN)/rag index seeds
	$(BIN)/rag ui

chat: $(BIN)/rag
	$(BIN)/rag index seeds
	$(BIN)/rag chat

test: $(BIN)/rag
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

# generative answers against a real llama.cpp server with SmolLM2-135M-Instruct (the first
# install compiles llama-cpp-python, about 13 minutes; pip caches the wheel)
$(VENV)/.llm-server: $(BIN)/rag
	$(PIP) install -q -c constraints.txt -e '.[test,llm,eval,llm-server]'
	touch $@

test-llm: $(VENV)/.llm-server
	$(BIN)/pytest -m llm

lint: $(BIN)/rag
	$(BIN)/ruff check .
	$(BIN)/mypy

eval: $(BIN)/rag
	$(BIN)/rag eval --out eval/report

# rebuilds rag/models/reader from ../shared/data (seeded: the same files), then fits its
# settings on the validation documents (rag/scoring.json)
train: $(BIN)/rag
	$(BIN)/rag train
	$(BIN)/python -m rag.calibrate

bench-index: $(BIN)/rag
	$(BIN)/python bench/index_bench.py

# make bench BENCH_ARGS='--sizes 1k,10k' runs a subset; '--fresh' rebuilds the cached collections
bench: $(BIN)/rag
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

bench-load: $(BIN)/rag
	$(BIN)/python bench/load.py

bench-reader: $(BIN)/rag
	$(BIN)/python bench/reader_bench.py

bench-memory: $(BIN)/rag
	$(BIN)/python bench/memory_growth.py

bench-robust: $(BIN)/rag
	$(BIN)/python bench/robust_bench.py

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache test-artifacts
