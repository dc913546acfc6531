"""Shared fixtures: the real data root, the real SmolLM2 model, and tiny random models."""
import os
import signal
from pathlib import Path

import pytest
from api_server import llama_server, scripted_server  # noqa: F401  (fixtures of tests/api_server.py)

PROJECT = Path(__file__).resolve().parents[1]

# A suite started in the background (nohup, some CI runners) inherits Ctrl-C ignored, and so would
# every run.py it starts: the interrupt tests need runs that take Ctrl-C as a terminal sends it.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
NOTES = PROJECT.parent / 'shared' / 'notes' / 'opencompass-0.5.4-prompts'


def _data_root():
    return Path(os.environ.get('EVALKIT_DATA_ROOT') or PROJECT.parent / 'shared' / 'data')


@pytest.fixture(scope='session')
def data_root():
    root = _data_root()
    if not (root / 'ceval' / 'formal_ceval' / 'val').is_dir():
        pytest.skip(f'C-Eval not found under {root} (set EVALKIT_DATA_ROOT)')
    return root


@pytest.fixture(scope='session')
def smollm2():
    from evalkit.utils.errors import EvalkitError
    from evalkit.utils.paths import smollm2_gguf
    try:
        path = smollm2_gguf()
    except EvalkitError as exc:
        pytest.skip(str(exc))
    return path


@pytest.fixture(scope='session')
def opencompass_reference():
    """OpenCompass 0.5.4's own predictions entries for ceval-computer_network sample 0."""
    import json
    if not NOTES.is_dir():
        pytest.skip(f'reference prompts not found at {NOTES}')
    return {mode: json.loads((NOTES / f'ceval_{mode}_{kind}_computer_network_0.json').read_text())['entry']
            for mode, kind in (('gen', 'chat'), ('ppl', 'base'))}


@pytest.fixture(scope='session')
def tiny_model_dir(tmp_path_factory, smollm2):
    """A tiny random Llama saved as a model folder, with SmolLM2's real tokenizer (and chat
    template). Built in-process from a config: nothing is fetched."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    folder = tmp_path_factory.mktemp('tiny-llama')
    tokenizer = AutoTokenizer.from_pretrained(os.path.dirname(smollm2), gguf_file=os.path.basename(smollm2))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

