"""The local runner with worker processes, on a tiny model: failures are contained and reported."""
import json
from evalkit.cli import main
from evalkit.config import load_config
from project import only_run


def _write_config(tmp_path, model_dir):
    cfg = tmp_path / 'eval_tiny.py'
    cfg.write_text(f'''
from evalkit.datasets.demo import demo_dataset_cfgs

_good = demo_dataset_cfgs('gen')[0]
_broken = dict(_good, abbr='broken', reader_cfg=dict(_good['reader_cfg'], input_columns=['question', 'nope']))
datasets = [_good, _broken]
models = [dict(type='HuggingFaceBaseModel', abbr='tiny', path={str(model_dir)!r},
               max_seq_len=512, max_out_len=4, batch_size=16)]
''')
    return cfg


def test_failing_dataset_is_reported_with_its_log_and_the_rest_finishes(tiny_model_dir, tmp_path, caplog, capsys):
    cfg = _write_config(tmp_path, tiny_model_dir)
    assert main([str(cfg), '-w', str(tmp_path / 'out'), '--max-num-workers', '2']) == 1
    run = only_run(tmp_path / 'out')
    failed = [r.getMessage() for r in caplog.records if 'failed' in r.getMessage()]
    assert any('see ' + str(run / 'logs' / 'infer' / 'tiny') in m for m in failed)
    logs = list((run / 'logs' / 'infer' / 'tiny').glob('*.out'))
    assert any("lack column(s) nope" in p.read_text() for p in logs)
    result = json.loads((run / 'results' / 'tiny' / 'demo-en-gen.json').read_text())
    assert 0 <= result['accuracy'] <= 100
    out = capsys.readouterr().out
    assert 'demo-en-gen' in out and 'broken' in out
    summary_row = [line for line in out.splitlines() if line.startswith('broken')][0]
    assert summary_row.split()[-1] == '-'
    assert 'no score for broken (no predictions)' in caplog.text


def test_stages_run_alone_on_an_earlier_run(tiny_model_dir, tmp_path):
    cfg = _write_config(tmp_path, tiny_model_dir)
    work = tmp_path / 'out'
    assert main([str(cfg), '-w', str(work), '-m', 'infer', '--debug']) == 1  # 'broken' fails
    run = only_run(work)
    assert (run / 'predictions' / 'tiny' / 'demo-en-gen.json').exists()
    assert not (run / 'results').exists()
    assert main([str(cfg), '-w', str(work), '-r', '-m', 'eval']) == 0
    assert (run / 'results' / 'tiny' / 'demo-en-gen.json').exists()
    assert len(list((run / 'summary').glob('*.csv'))) == 1
    assert main([str(cfg), '-w', str(work), '-r', run.name, '-m', 'viz']) == 0
    saved = load_config(run / 'configs' / f'{run.name}.py')
    assert saved['models'][0]['path'] == str(tiny_model_dir)
    assert [d['abbr'] for d in saved['datasets']] == ['demo-en-gen', 'broken']
    # The saved config runs again as it is.
    assert main([str(run / 'configs' / f'{run.name}.py'), '-w', str(tmp_path / 'again'), '--dry-run']) == 0
