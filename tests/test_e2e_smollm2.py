"""End to end with the real model (SmolLM2-135M-Instruct GGUF) on real C-Eval subjects."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.openicl.postprocessors import first_capital_postprocess
from project import only_run

SUBJECTS = ['computer_network', 'high_school_physics']
PROJECT = Path(__file__).resolve().parents[1]


def _run(mode, smollm2, data_root, work_dir, *extra):
    return main(['--datasets', f'ceval_{mode}', '--subsets', *SUBJECTS, '--hf-path', smollm2,
                 '--max-out-len', '16', '--batch-size', '4', '--data-root', str(data_root),
                 '-w', str(work_dir), '--debug', *extra])


def _only_run(work_dir):
    return only_run(work_dir)


def _predictions(run, subject):
    path = run / 'predictions' / 'SmolLM2-135M-Instruct.Q4_1' / f'ceval-{subject}.json'
    return json.loads(path.read_text())


@pytest.fixture(scope='module')
def gen_run(smollm2, data_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('gen')
    assert _run('gen', smollm2, data_root, work) == 0
    return _only_run(work)


def test_gen_predictions_hold_prompt_prediction_and_gold(gen_run, opencompass_reference):
    preds = _predictions(gen_run, 'computer_network')
    assert len(preds) == 19
    first = preds['0']
    ref = opencompass_reference['gen']
    assert [m['content'] for m in first['origin_prompt']] == [t['prompt'] for t in ref['origin_prompt']]
    assert first['gold'] == ref['gold']
    assert first_capital_postprocess(first['prediction']) == ref['prediction']


def test_gen_results_and_summary(gen_run):
    for subject in SUBJECTS:
        preds = _predictions(gen_run, subject).values()
        expected = 100 * sum(first_capital_postprocess(p['prediction']) == p['gold'] for p in preds) / len(preds)
        result = json.loads((gen_run / 'results' / 'SmolLM2-135M-Instruct.Q4_1' / f'ceval-{subject}.json').read_text())
        assert result['accuracy'] == pytest.approx(expected)
    csv_files = list((gen_run / 'summary').glob('summary_*.csv'))
    assert len(csv_files) == 1
    lines = csv_files[0].read_text().splitlines()
    assert lines[0] == 'dataset,version,metric,mode,SmolLM2-135M-Instruct.Q4_1,SmolLM2-135M-Instruct.Q4_1 stderr'
    assert [line.split(',')[0] for line in lines[1:]] == [f'ceval-{s}' for s in SUBJECTS]
    assert all(line.split(',')[3] == 'gen' for line in lines[1:])
    assert (gen_run / 'configs' / f'{gen_run.name}.py').is_file()
    assert list((gen_run / 'logs' / 'infer').rglob('*.out'))


def test_ppl_scores_every_option_like_opencompass(smollm2, data_root, tmp_path, opencompass_reference):
    assert _run('ppl', smollm2, data_root, tmp_path) == 0
    run = _only_run(tmp_path)
    first = _predictions(run, 'computer_network')['0']
    ref = opencompass_reference['ppl']
    assert first['origin_prompt'] == {label: ref[f'label: {label}']['prompt'] for label in 'ABCD'}
    assert first['prediction'] == ref['prediction']
    # Same ranking of the options as OpenCompass's perplexities.
    assert sorted('ABCD', key=first['ppl'].get) == sorted('ABCD', key=lambda l: ref[f'label: {l}']['PPL'])
    summary = next((run / 'summary').glob('*.csv')).read_text()
    assert ',ppl,' in summary


def test_resume_after_kill_gives_the_uninterrupted_predictions(smollm2, data_root, tmp_path, gen_run):
    """Kill a run once its first batches are saved; -r finishes it with identical predictions."""
    cmd = [sys.executable, str(PROJECT / 'run.py'), '--datasets', 'ceval_gen', '--subsets', SUBJECTS[0],
           '--hf-path', smollm2, '--max-out-len', '16', '--batch-size', '4',
           '--data-root', str(data_root), '-w', str(tmp_path)]
    proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    partial = None
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            found = list(tmp_path.glob('*/predictions/*/tmp_ceval-computer_network.json'))
            if found:
                partial = found[0]
                break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert partial is not None, 'the run never saved a batch'
    run = partial.parents[2]
    assert not (partial.parent / 'ceval-computer_network.json').exists()
    saved = json.loads(partial.read_text())['rows']
    assert 0 < len(saved) < 19

    assert main(cmd[2:] + ['-r', '--debug']) == 0
    assert not partial.exists()
    resumed = _predictions(run, 'computer_network')
    assert resumed == _predictions(gen_run, 'computer_network')
    assert all(resumed[k] == v for k, v in saved.items())
