"""Command-line parsing and the errors a user sees for bad input."""
import time

import pytest

from evalkit.cli import build_parser, main, parse_kv, select_subsets
from evalkit.datasets.ceval import ceval_dataset_cfgs
from evalkit.utils.errors import EvalkitError


def test_kv_values_parse_as_python_literals():
    kv = parse_kv(["padding_side='left'", 'trust_remote_code=True', 'max_length=1024',
                   'pad_token=<|im_end|>', "device_map='auto'"], '--tokenizer-kwargs')
    assert kv == {'padding_side': 'left', 'trust_remote_code': True, 'max_length': 1024,
                  'pad_token': '<|im_end|>', 'device_map': 'auto'}


@pytest.mark.parametrize('token', ['padding_side', '=left', 'two words=1'])
def test_malformed_kv_names_the_token(token):
    with pytest.raises(EvalkitError, match=f'--model-kwargs: malformed token {token!r}'):
        parse_kv([token], '--model-kwargs')


def test_opencompass_tutorial_command_line_parses():
    args = build_parser().parse_args(
        "--datasets ceval_gen --hf-path P --tokenizer-path P --tokenizer-kwargs padding_side='left' "
        "truncation='left' trust_remote_code=True --model-kwargs trust_remote_code=True "
        "device_map='auto' --max-seq-len 1024 --max-out-len 16 --batch-size 2 --num-gpus 1 --debug".split())
    assert args.datasets == ['ceval_gen'] and args.max_seq_len == 1024 and args.debug
    assert parse_kv(args.model_kwargs, '') == {'trust_remote_code': True, 'device_map': 'auto'}


def test_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit):
        main(['--help'])
    text = capsys.readouterr().out
    for flag in ('--datasets', '--models', '--summarizer', '--hf-path', '--tokenizer-path',
                 '--tokenizer-kwargs', '--model-kwargs', '--generation-kwargs', '--hf-type',
                 '--max-seq-len', '--max-out-len', '--batch-size', '--num-gpus', '--debug',
                 '--reuse', '--work-dir', '--mode', '--max-num-workers', '--dry-run', '--data-root'):
        assert flag in text


def test_unknown_dataset_lists_closest_names(smollm2, caplog, tmp_path):
    assert main(['--datasets', 'ceval_gne', '--hf-path', smollm2, '-w', str(tmp_path)]) == 2
    assert "no dataset config named 'ceval_gne'" in caplog.text
    assert 'ceval_gen' in caplog.text


def test_missing_model_path_is_named(caplog, tmp_path):
    assert main(['--datasets', 'ceval_gen', '--hf-path', str(tmp_path / 'missing.gguf'),
                 '-w', str(tmp_path)]) == 2
    assert 'model file not found' in caplog.text and 'missing.gguf' in caplog.text


def test_missing_data_stops_before_the_model_loads(smollm2, caplog, tmp_path):
    start = time.time()
    code = main(['--datasets', 'ceval_gen', '--hf-path', smollm2, '--data-root', str(tmp_path / 'empty'),
                 '-w', str(tmp_path / 'out')])
    assert code == 2
    assert time.time() - start < 15  # loading the model alone takes longer
    errors = [r.getMessage() for r in caplog.records if r.levelname == 'ERROR']
    assert len(errors) == 1
    assert str(tmp_path / 'empty' / 'ceval' / 'formal_ceval') in errors[0]
    assert 'tools/prepare_data.py' in errors[0]
    assert 'loaded model' not in caplog.text


def test_malformed_kv_on_the_command_line(smollm2, caplog, tmp_path):
    assert main(['--datasets', 'ceval_gen', '--hf-path', smollm2, '--model-kwargs', 'dtype',
                 '-w', str(tmp_path)]) == 2
    assert "malformed token 'dtype'" in caplog.text


def test_no_model_given(caplog, tmp_path):
    assert main(['--datasets', 'ceval_gen', '-w', str(tmp_path)]) == 2
    assert '--hf-path' in caplog.text


def test_subsets_select_by_subject_and_pattern():
    datasets = ceval_dataset_cfgs('gen')
    kept = select_subsets(datasets, ['logic', 'ceval-marxism', 'high_school_p*'])
    assert [d['abbr'] for d in kept] == ['ceval-high_school_physics', 'ceval-marxism',
                                         'ceval-high_school_politics', 'ceval-logic']
    with pytest.raises(EvalkitError, match='nosuch'):
        select_subsets(datasets, ['nosuch'])


def test_dry_run_lists_tasks_without_running(smollm2, data_root, capsys, tmp_path):
    code = main(['--datasets', 'ceval_ppl', '--subsets', 'logic', 'marxism', '--hf-path', smollm2,
                 '--dry-run', '--data-root', str(data_root), '-w', str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert 'ceval-logic' in out and 'ceval-marxism' in out
    assert not any(tmp_path.iterdir())


def test_config_errors_name_the_file(tmp_path, caplog):
    bad = tmp_path / 'bad.py'
    bad.write_text('datasets = [\n  undefined_name]\n')
    assert main([str(bad), '-w', str(tmp_path)]) == 2
    assert 'bad.py' in caplog.text and 'NameError' in caplog.text and 'line 2' in caplog.text


def test_eval_mode_needs_an_earlier_run(smollm2, caplog, tmp_path):
    assert main(['--datasets', 'ceval_gen', '--hf-path', smollm2, '-m', 'eval', '-w', str(tmp_path)]) == 2
    assert '-m eval works on an earlier run: add -r' in caplog.text


def test_reuse_of_unknown_timestamp_is_named(smollm2, caplog, tmp_path):
    assert main(['--datasets', 'ceval_gen', '--hf-path', smollm2, '-r', '20200101_000000',
                 '-w', str(tmp_path)]) == 2
    assert '-r 20200101_000000: no such run' in caplog.text
