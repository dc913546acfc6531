"""The Hugging Face backend on a tiny random model: caching and batching never change results."""
import pytest
import torch

from evalkit.models import HuggingFaceBaseModel, HuggingFacewithChatTemplate
from evalkit.utils.errors import EvalkitError


@pytest.fixture(scope='module')
def base(tiny_model_dir):
    return HuggingFaceBaseModel(str(tiny_model_dir), max_seq_len=2048)


def _reference_nll(model, ids):
    """Summed NLL of tokens 2..n from one plain forward pass, computed here independently."""
    with torch.no_grad():
        logits = model.model(torch.tensor([ids])).logits[0].float()
    logprobs = torch.log_softmax(logits[:-1], -1)
    return float(-logprobs.gather(-1, torch.tensor(ids[1:])[:, None]).sum())


SHARED = ('The following are questions about geography, with answers.\n'
          'Q: Which river flows through Cairo?\nA: The Nile\n\n'
          'Q: Which ocean lies west of Portugal?\nA: The Atlantic\n\n')


def test_shared_prefix_cache_gives_plain_logits(base):
    texts = [SHARED + f'Q: {q}\nA: {a}' for q, a in
             (('Capital of Peru?', 'Lima'), ('Capital of Kenya?', 'Nairobi'),
              ('Longest river?', 'The Nile'), ('Capital of Peru?', 'Cusco'))]
    seqs = [base.encode(t) for t in texts]
    expected = [_reference_nll(base, s) for s in seqs]
    base._prefix = None
    first = base.sequence_nll(seqs)            # computes and caches the shared head
    again = base.sequence_nll(seqs[::-1])      # reuses it
    plain = base.sequence_nll(seqs, use_prefix_cache=False)
    assert base._prefix is not None and len(base._prefix['ids']) > 16
    assert first == pytest.approx(expected, rel=1e-5)
    assert again == pytest.approx(expected[::-1], rel=1e-5)
    assert plain == pytest.approx(expected, rel=1e-5)


def test_choice_nll_is_mean_over_tokens_and_ranks_options(base):
    texts = [SHARED + 'Q: Capital of Peru?\nA: ' + o for o in 'ABCD']
    nll = base.choice_nll([texts])[0]
    ids = [base.encode(t) for t in texts]
    assert nll == pytest.approx([_reference_nll(base, i) / len(i) for i in ids], rel=1e-5)


def test_cached_generation_equals_plain_generation(base):
    prompts = [SHARED + 'Q: Capital of Peru?\nA:', SHARED + 'Q: Which is the largest desert on Earth?\nA:']
    encoded = [base.encode(p) for p in prompts]
    base._prefix = None
    cached = base.generate_ids(encoded, 12, [])
    plain = base.generate_ids(encoded, 12, [], use_prefix_cache=False)
    alone = [base.generate_ids([e], 12, [], use_prefix_cache=False)[0] for e in encoded]
    assert cached == plain == alone
    assert all(isinstance(t, str) for t in cached)


def test_generation_stops_at_stop_words(base):
    out = base.generate([SHARED + 'Q: Capital of Peru?\nA:'], 20)[0]
    if len(out) > 1:
        stop = out[1]
        cut = base.generate([SHARED + 'Q: Capital of Peru?\nA:'], 20, stop_words=[stop])[0]
        assert cut == out[:out.index(stop)]


def test_left_truncation_to_max_seq_len(tiny_model_dir):
    model = HuggingFaceBaseModel(str(tiny_model_dir), max_seq_len=32)
    ids = model.encode(SHARED * 3)
    assert len(ids) == 32
    assert ids == model.tokenizer(SHARED * 3)['input_ids'][-32:]


def test_chat_model_renders_template(tiny_model_dir):
    chat = HuggingFacewithChatTemplate(str(tiny_model_dir))
    messages = chat.prepare([{'role': 'HUMAN', 'prompt': 'Hi'}, {'role': 'BOT', 'prompt': ''}])
    assert messages == [{'role': 'user', 'content': 'Hi'}]
    text = chat.render(messages)
    assert text.rstrip().endswith('assistant') and 'Hi' in text
    assert chat.token_len(messages) == len(chat.encode(messages))


def test_device_map_auto_without_gpu_warns_and_uses_cpu(tiny_model_dir, caplog):
    model = HuggingFaceBaseModel(str(tiny_model_dir), model_kwargs={'device_map': 'auto'},
                                 run_cfg={'num_gpus': 1})
    if not torch.cuda.is_available():
        assert model.device == 'cpu'
        assert 'no GPU found' in caplog.text


def test_missing_model_path_is_named(tmp_path):
    with pytest.raises(EvalkitError, match='model path not found: .*nowhere'):
        HuggingFaceBaseModel(str(tmp_path / 'nowhere'))
    with pytest.raises(EvalkitError, match='model file not found: .*x.gguf'):
        HuggingFaceBaseModel(str(tmp_path / 'x.gguf'))


def test_folder_without_model_fails_in_one_line(tmp_path):
    with pytest.raises(EvalkitError, match='cannot load the tokenizer from'):
        HuggingFaceBaseModel(str(tmp_path))


def test_hub_name_is_tried_and_fails_in_one_line_when_offline(monkeypatch):
    import huggingface_hub.constants
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)
    with pytest.raises(EvalkitError, match='cannot load the tokenizer from evalkit-test/no-such-model') as info:
        HuggingFaceBaseModel('evalkit-test/no-such-model')
    assert '\n' not in str(info.value)


def test_a_prompt_that_starts_otherwise_runs_alone_with_the_same_results(base):
    """A prompt cut on the left shares no head with its batch; the others still use the cache."""
    texts = [SHARED + 'Q: Capital of Peru?\nA: Lima', 'Q: Capital of Peru?\nA: Lima',
             SHARED + 'Q: Capital of Chad?\nA: Lima']
    seqs = [base.encode(t) for t in texts]
    base._prefix = None
    assert base.sequence_nll(seqs) == pytest.approx([_reference_nll(base, s) for s in seqs], rel=1e-5)
    assert base._prefix is not None and len(base._prefix['ids']) > 16
    prompts = [base.encode(t[:-5]) for t in texts]
    base._prefix = None
    assert base.generate_ids(prompts, 6, []) == base.generate_ids(prompts, 6, [], use_prefix_cache=False)
