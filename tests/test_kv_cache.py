"""Caches with room reserved for decoding give exactly the logits of transformers' own cache."""
import pytest
import torch
from transformers import AutoModelForCausalLM, DynamicCache

from evalkit.models import HuggingFaceBaseModel
from evalkit.models.kv_cache import ReservedLayer, cache_with_room, merged_cache


@pytest.fixture(scope='module')
def model(tiny_model_dir):
    return AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).eval()


def _steps(model, cache, ids, n_steps):
    """Greedy steps after a prefill of ``ids``; every step's logits."""
    logits = []
    with torch.inference_mode():
        out = model(input_ids=ids, use_cache=True, cache=cache)
        cache = out.past_key_values
        for _ in range(n_steps):
            logits.append(out.logits[:, -1])
            out = model(input_ids=out.logits[:, -1:].argmax(-1), use_cache=True, cache=cache)
            cache = out.past_key_values
    return torch.stack(logits), cache


def test_reserved_layers_give_the_plain_logits_and_grow_when_full(model):
    torch.manual_seed(1)
    ids = torch.randint(10, 1000, (2, 40))
    plain, _ = _steps(model, DynamicCache(config=model.config), ids, 9)
    # room 4: the buffers run full twice during the 9 steps and must grow without losing anything
    reserved, cache = _steps(model, cache_with_room(model.config, None, 4), ids, 9)
    assert all(isinstance(layer, ReservedLayer) for layer in cache.layers)
    assert cache.get_seq_length() == 40 + 9
    assert torch.equal(plain, reserved)


def test_a_step_writes_in_place_instead_of_copying_the_cache(model):
    ids = torch.randint(10, 1000, (1, 30))
    _, cache = _steps(model, cache_with_room(model.config, None, 8), ids, 1)
    before = cache.layers[0].keys.data_ptr()
    with torch.inference_mode():
        cache = model(input_ids=ids[:, :1], use_cache=True, cache=cache).past_key_values
    assert cache.layers[0].keys.data_ptr() == before and cache.get_seq_length() == 32


def test_merged_rows_of_different_lengths_decode_as_each_row_alone(model):
    """Rows of 25, 40 and 33 tokens merged (padded on the left), then the middle row dropped
    after two steps, as the decoder does once rows finish: each row's logits at every step
    equal those of the row decoded alone."""
    torch.manual_seed(2)
    prompts = [torch.randint(10, 1000, (1, n)) for n in (25, 40, 33)]
    alone = [_steps(model, DynamicCache(config=model.config), ids, 5)[0][:, 0] for ids in prompts]
    with torch.inference_mode():
        rows = [model(input_ids=ids, use_cache=True).past_key_values for ids in prompts]
        cache = merged_cache(model.config, rows, room=8)
        assert all(layer.keys is None for row in rows for layer in row.layers)  # freed as copied
        lengths = [p.shape[1] for p in prompts]
        mask = torch.tensor([[0] * (40 - n) + [1] * n for n in lengths])
        positions = torch.tensor([[n] for n in lengths])
        step = torch.stack([a[0].argmax()[None] for a in alone])
        in_batch, got = [0, 1, 2], {0: [], 1: [], 2: []}
        for i in range(4):
            if i == 2:
                keep = torch.tensor([0, 2])
                cache.batch_select_indices(keep)
                in_batch, mask, positions, step = [0, 2], mask[keep], positions[keep], step[keep]
            mask = torch.cat([mask, mask.new_ones(len(in_batch), 1)], 1)
            out = model(input_ids=step, attention_mask=mask, position_ids=positions, use_cache=True, cache=cache)
            cache = out.past_key_values
            for slot, row in enumerate(in_batch):
                got[row].append(out.logits[slot, -1])
            step, positions = out.logits[:, -1:].argmax(-1), positions + 1
    assert [len(got[r]) for r in range(3)] == [4, 2, 4]
    for row, logits in got.items():
        for i, step_logits in enumerate(logits):
            assert torch.allclose(step_logits, alone[row][i + 1], atol=1e-5), (row, i)


def test_rows_that_finish_early_leave_the_batch_with_the_same_results(tiny_model_dir):
    """Three rows stop after a few tokens, one decodes on alone: the batch is cut down to it and
    every row's text equals its generation alone."""
    model = HuggingFaceBaseModel(str(tiny_model_dir), max_seq_len=2048)
    short, long_ = 'Q: Which river flows through Cairo?\nA:', 'Q: Which ocean lies west of Portugal?\nA:'
    first = model.generate_ids([model.encode(short)], 3, [], use_prefix_cache=False)[0]
    other = model.generate_ids([model.encode(long_)], 12, [], use_prefix_cache=False)[0]
    stop = next((s for s in (first.strip(), first[-3:], first[:3]) if s.strip() and s not in other), None)
    assert stop, 'the test needs a stop text only the short prompt reaches'
    encoded = [model.encode(p) for p in (short, short, long_, short)]
    together = model.generate_ids(encoded, 12, [stop], use_prefix_cache=False)
    alone = [model.generate_ids([e], 12, [stop], use_prefix_cache=False)[0] for e in encoded]
    assert together == alone
    assert together[2] == other and len(together[0]) < len(other)


def _tiny_model(tmp_path_factory, tiny_model_dir, name, model_class, config_class, **settings):
    """A tiny random model of ``model_class`` saved with the test tokenizer, loaded as evalkit does."""
    from transformers import AutoTokenizer
    folder = tmp_path_factory.mktemp(name)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    torch.manual_seed(0)
    model_class(config_class(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                             num_attention_heads=4, num_key_value_heads=2, **settings)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return HuggingFaceBaseModel(str(folder), max_seq_len=2048)


def _greedy_by_transformers(model, encoded, n_tokens):
    """Each prompt's continuation from transformers' own greedy ``generate``."""
    with torch.inference_mode():
        return [model.tokenizer.decode(
            model.model.generate(torch.tensor([e]), max_new_tokens=n_tokens, do_sample=False, eos_token_id=None,
                                 pad_token_id=0)[0, len(e):], skip_special_tokens=True) for e in encoded]


def _plain_nll(model, seqs):
    """Summed NLL of tokens 2..n of each sequence from one plain forward pass."""
    with torch.inference_mode():
        logprobs = [torch.log_softmax(model.model(torch.tensor([ids])).logits[0, :-1].float(), -1) for ids in seqs]
    return [float(-lp.gather(-1, torch.tensor(ids[1:])[:, None]).sum()) for lp, ids in zip(logprobs, seqs)]


@pytest.fixture(scope='module')
def sliding_model(tmp_path_factory, tiny_model_dir):
    """A tiny random Mistral whose attention window (24 tokens) is shorter than the prompts."""
    from transformers import MistralConfig, MistralForCausalLM
    return _tiny_model(tmp_path_factory, tiny_model_dir, 'tiny-mistral', MistralForCausalLM, MistralConfig,
                       num_hidden_layers=2, sliding_window=24, max_position_embeddings=4096)


def test_sliding_window_models_generate_as_transformers_does(sliding_model):
    """Prompts and a shared head longer than the window, rows of 11 to 70 tokens in one batch:
    the same text as transformers' own greedy generate, row by row."""
    model = sliding_model
    head = 'Some shared instructions that run on for quite a while, longer than the window. ' * 2
    prompts = [head + 'Q: Which river flows through Cairo and on to the sea? Tell me.\nA:',
               head + 'Q: Which ocean lies west of Portugal?\nA:', 'Hello there, how are you?']
    encoded = [model.encode(p) for p in prompts]
    assert max(len(e) for e in encoded) > 2 * 24 and min(len(e) for e in encoded) < 24
    expected = _greedy_by_transformers(model, encoded, 10)
    model._prefix = None
    assert model.generate_ids(encoded, 10, []) == expected
    assert model._prefix is not None and len(model._prefix['ids']) > 24  # the head was cached and used
    assert model.generate_ids(encoded, 10, [], use_prefix_cache=False) == expected


def test_sliding_window_models_score_as_a_plain_forward_pass(sliding_model):
    model = sliding_model
    head = 'Some shared instructions that run on for quite a while, longer than the window. ' * 2
    seqs = [model.encode(head + f'Q: Capital of {c}?\nA: {a}') for c, a in (('Peru', 'Lima'), ('Chad', 'Lima'))]
    expected = _plain_nll(model, seqs)
    model._prefix = None
    assert model.sequence_nll(seqs) == pytest.approx(expected, rel=1e-5)


@pytest.fixture(scope='module')
def hybrid_model(tmp_path_factory, tiny_model_dir):
    """A tiny random Qwen3-Next: three of its four layers keep a recurrent state, not keys and
    values per token, so its cache can be neither cut at a token nor padded."""
    from transformers import Qwen3NextConfig, Qwen3NextForCausalLM
    return _tiny_model(tmp_path_factory, tiny_model_dir, 'tiny-hybrid', Qwen3NextForCausalLM, Qwen3NextConfig,
                       num_hidden_layers=4, head_dim=16, num_experts=4, num_experts_per_tok=2,
                       moe_intermediate_size=32, shared_expert_intermediate_size=32, linear_num_value_heads=4,
                       linear_num_key_heads=2, linear_key_head_dim=16, linear_value_head_dim=16)


def test_recurrent_state_models_generate_and_score_as_transformers_does(hybrid_model):
    model = hybrid_model
    head = 'Some shared instructions that run on for quite a while. ' * 2
    encoded = [model.encode(head + p) for p in ('Q: Which river flows through Cairo?\nA:', 'Q: Which ocean?\nA:', 'Hi')]
    expected = _greedy_by_transformers(model, encoded, 8)
    reference_nll = _plain_nll(model, encoded)
    model._prefix = None
    assert model.generate_ids(encoded, 8, []) == expected
    assert model.sequence_nll(encoded) == pytest.approx(reference_nll, rel=1e-5)
    assert model._prefix is None  # no shared head for a state that cannot be cut
