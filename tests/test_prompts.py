"""Built-in C-Eval prompts must match OpenCompass's, character for character."""
from evalkit.datasets.ceval import ceval_dataset_cfgs
from evalkit.models import HuggingFaceBaseModel, HuggingFacewithChatTemplate
from evalkit.registry import build
from evalkit.tasks.base import load_splits


def _requests(model, cfg, data_root):
    train, test, reader = load_splits(cfg, str(data_root))
    infer = cfg['infer_cfg']
    template = build(infer['ice_template'])
    ids = build(infer['retriever']).retrieve(len(train), len(test))
    return build(infer['inferencer'], max_seq_len=model.max_seq_len).build(
        model, template, template, ids, train, test, reader['output_column'])


def test_gen_chat_prompt_matches_opencompass(tiny_model_dir, data_root, opencompass_reference):
    model = HuggingFacewithChatTemplate(str(tiny_model_dir), max_seq_len=4096)
    cfg = ceval_dataset_cfgs('gen', subjects=['computer_network'])[0]
    first = _requests(model, cfg, data_root)[0]
    expected = [{'role': {'HUMAN': 'user', 'BOT': 'assistant'}[t['role']], 'content': t['prompt']}
                for t in opencompass_reference['gen']['origin_prompt']]
    assert first['origin_prompt'] == expected
    assert first['gold'] == opencompass_reference['gen']['gold']
    assert first['n_examples'] == 5


def test_ppl_prompts_match_opencompass(tiny_model_dir, data_root, opencompass_reference):
    model = HuggingFaceBaseModel(str(tiny_model_dir), max_seq_len=4096)
    cfg = ceval_dataset_cfgs('ppl', subjects=['computer_network'])[0]
    first = _requests(model, cfg, data_root)[0]
    ref = opencompass_reference['ppl']
    assert first['origin_prompt'] == {label: ref[f'label: {label}']['prompt'] for label in 'ABCD'}


def test_base_gen_prompt_is_plain_text(tiny_model_dir, data_root):
    model = HuggingFaceBaseModel(str(tiny_model_dir), max_seq_len=4096)
    cfg = ceval_dataset_cfgs('gen', shots=0, subjects=['logic'])[0]
    prompt = _requests(model, cfg, data_root)[0]['origin_prompt']
    assert prompt.startswith('以下是中国关于逻辑学考试的单项选择题，请选出其中的正确答案。\n')
    assert prompt.endswith('\n答案: \n')


def test_long_prompts_lose_examples_from_the_end(tiny_model_dir, data_root):
    """Like OpenCompass, a prompt over max_seq_len drops in-context examples, last first."""
    model = HuggingFacewithChatTemplate(str(tiny_model_dir), max_seq_len=700)
    cfg = ceval_dataset_cfgs('gen', subjects=['computer_network'])[0]
    requests = _requests(model, cfg, data_root)
    for r in requests:
        assert model.fit_len(r['origin_prompt']) <= 700 or r['n_examples'] == 0
        kept_examples = (len(r['origin_prompt']) - 1) // 2
        assert kept_examples == r['n_examples']
    assert min(r['n_examples'] for r in requests) < 5


def test_chat_prompts_are_measured_as_opencompass_measures_them(tiny_model_dir):
    """OpenCompass fits a chat prompt by the length of its turns joined into one user message."""
    model = HuggingFacewithChatTemplate(str(tiny_model_dir))
    messages = [{'role': 'user', 'content': 'Q1\n答案: \n'}, {'role': 'assistant', 'content': 'A'},
                {'role': 'user', 'content': 'Q2\n答案: \n'}]
    joined = [{'role': 'user', 'content': 'Q1\n答案: \nAQ2\n答案: \n'}]
    assert model.fit_len(messages) == model.token_len(joined) < model.token_len(messages)
