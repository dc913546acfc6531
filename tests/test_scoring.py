"""Scores with error bars, pooled group errors, and re-scoring saved predictions with -m eval -r."""
import json
import math
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.summarizers.default import DefaultSummarizer, headline
from project import only_run

MODEL = 'SmolLM2-135M-Instruct.Q4_1'


def _write_config(path, postprocess='first_capital_postprocess', header_suffix=''):
    """A config on the English demo set (gen, 2-shot, 12 rows) whose post-processor and prompt
    header a test can change."""
    path.write_text(f'''
from evalkit.datasets.demo import demo_dataset_cfgs
from evalkit.openicl.postprocessors import first_capital_postprocess, first_option_postprocess

datasets = [d for d in demo_dataset_cfgs(mode='gen') if d['name'] == 'en']
for d in datasets:
    d['reader_cfg']['test_range'] = '[0:12]'
    d['eval_cfg']['pred_postprocessor'] = dict(type={postprocess})
    round_ = d['infer_cfg']['ice_template']['template']['round']
    round_[0]['prompt'] = round_[0]['prompt'] + {header_suffix!r}
''')
    return path


def _run(config, smollm2, work, *extra):
    return main([str(config), '--hf-path', smollm2, '--max-out-len', '8', '--batch-size', '4',
                 '-w', str(work), '--debug', *extra])


def _results(run):
    return json.loads((run / 'results' / MODEL / 'demo-en-gen.json').read_text())


@pytest.fixture(scope='module')
def scored_run(smollm2, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('scoring')
    config = _write_config(tmp / 'demo.py')
    assert _run(config, smollm2, tmp / 'out', '--bootstrap', '200') == 0
    run = only_run(tmp / 'out')
    return tmp, config, run


def test_results_carry_standard_error_and_interval(scored_run):
    _, _, run = scored_run
    results = _results(run)
    correct = [d['correct'] for d in results['details']]
    n = len(correct)
    assert n == results['num_samples'] == 12
    p = sum(correct) / n
    assert results['accuracy'] == pytest.approx(100 * p)
    expected_se = 100 * math.sqrt(p * (1 - p) * n / (n - 1) / n)
    assert results['accuracy_stderr'] == pytest.approx(expected_se)
    low, high = results['accuracy_ci95']
    assert low <= results['accuracy'] <= high
    summary = next((run / 'summary').glob('summary_*.txt')).read_text()
    assert f"{results['accuracy']:.2f} ± {results['accuracy_stderr']:.2f} [{low:.2f}, {high:.2f}]" in summary
    csv_header = next((run / 'summary').glob('summary_*.csv')).read_text().splitlines()[0]
    assert csv_header.endswith(f'{MODEL},{MODEL} stderr')


def test_changed_postprocessor_is_rescored_without_the_model(scored_run, smollm2):
    tmp, _, run = scored_run
    before = _results(run)
    predictions = (run / 'predictions' / MODEL / 'demo-en-gen.json').read_bytes()
    changed = _write_config(tmp / 'demo_option.py', postprocess='first_option_postprocess')
    # No --hf-path model loads in -m eval: a model path that does not exist would not matter.
    assert _run(changed, smollm2, tmp / 'out', '-m', 'eval', '-r') == 0
    after = _results(run)
    assert after['fingerprint'] != before['fingerprint']
    assert 'accuracy_ci95' not in after  # this time without --bootstrap
    assert (run / 'predictions' / MODEL / 'demo-en-gen.json').read_bytes() == predictions
    # Unchanged config: the scores are current and stay as they are.
    stamp = (run / 'results' / MODEL / 'demo-en-gen.json').stat().st_mtime_ns
    assert _run(changed, smollm2, tmp / 'out', '-m', 'eval', '-r') == 0
    assert (run / 'results' / MODEL / 'demo-en-gen.json').stat().st_mtime_ns == stamp


def test_changed_prompt_is_not_scored_silently(scored_run, smollm2, caplog):
    tmp, _, run = scored_run
    changed = _write_config(tmp / 'demo_prompt.py', header_suffix='Think first.\n')
    assert _run(changed, smollm2, tmp / 'out', '-m', 'eval', '-r') == 1
    assert 'were made under another prompt, data or model config' in caplog.text
    assert not (run / 'results' / MODEL / 'demo-en-gen.json').exists()
    # A full -r run makes the predictions again under the new prompt, then scores them.
    assert _run(changed, smollm2, tmp / 'out', '-r') == 0
    records = json.loads((run / 'predictions' / MODEL / 'demo-en-gen.json').read_text())
    assert all('Think first.' in json.dumps(r['origin_prompt'], ensure_ascii=False) for r in records.values())
    assert 'accuracy' in _results(run)


def test_group_error_is_pooled_from_subsets(tmp_path):
    per_subset = {'a': (50.0, 4.0), 'b': (70.0, 3.0), 'c': (40.0, None)}
    datasets = []
    for abbr, (value, stderr) in per_subset.items():
        datasets.append({'abbr': abbr, 'type': 'DemoMCDataset', 'infer_cfg': {}})
        path = Path(tmp_path, 'results', 'm', f'{abbr}.json')
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({'accuracy': value, 'accuracy_stderr': stderr, 'num_samples': 10}))
    summarizer = DefaultSummarizer(summary_groups=[
        {'name': 'ab', 'subsets': ['a', 'b']},
        {'name': 'ab-weighted', 'subsets': ['a', 'b'], 'weights': {'a': 3, 'b': 1}},
        {'name': 'abc', 'subsets': ['a', 'b', 'c']}])
    text, paths = summarizer.summarize([{'abbr': 'm'}], datasets, tmp_path, 'x')
    rows = {line.split(',')[0]: line.split(',') for line in paths['csv'].read_text().splitlines()}
    assert rows['ab'][4:] == ['60.00', f'{math.sqrt(16 + 9) / 2:.2f}']
    assert rows['ab-weighted'][4:] == ['55.00', f'{math.sqrt(9 * 16 + 9) / 4:.2f}']
    assert rows['abc'][4:] == ['53.33', '']  # c has no error: the group has none either
    assert '60.00 ± 2.50' in text


def test_headline_skips_errors_and_counts():
    score = headline({'num_samples': 5, 'fingerprint': 'abc', 'accuracy_stderr': 1.0, 'accuracy': 40.0,
                      'details': [{}]})
    assert (score.metric, score.value, score.stderr) == ('accuracy', 40.0, 1.0)
    assert headline({'fingerprint': 'abc'}) is None
