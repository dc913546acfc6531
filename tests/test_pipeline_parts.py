"""Partitioner, summarizer, configs and file handling, on real files."""
import json
import os

import pytest

from evalkit.config import dataset_version, find_config, load_config
from evalkit.datasets.ceval import ceval_dataset_cfgs, ceval_summary_groups
from evalkit.datasets.ceval_subjects import CEVAL_SUBJECTS
from evalkit.partitioners import SizePartitioner
from evalkit.summarizers import DefaultSummarizer
from evalkit.tasks.base import apply_range, results_path
from evalkit.utils.errors import EvalkitError
from evalkit.utils.fileio import atomic_write_json


def test_ceval_configs_cover_the_52_subjects():
    for name in ('ceval_gen', 'ceval_ppl', 'ceval_zero_shot_gen'):
        datasets = load_config(find_config('datasets', name))['ceval_datasets']
        assert [d['abbr'] for d in datasets] == ['ceval-' + s for s in CEVAL_SUBJECTS]
    test = load_config(find_config('datasets', 'ceval_test_gen'))['ceval_test_datasets']
    assert test[0]['abbr'].startswith('ceval-test-') and test[0]['reader_cfg']['test_split'] == 'test'


def test_versions_change_with_the_prompt_only():
    gen, ppl = ceval_dataset_cfgs('gen')[0], ceval_dataset_cfgs('ppl')[0]
    assert len(dataset_version(gen)) == 6
    assert dataset_version(gen) == dataset_version(ceval_dataset_cfgs('gen')[0])
    assert dataset_version(gen) != dataset_version(ppl)
    assert dataset_version(gen) != dataset_version(ceval_dataset_cfgs('gen', shots=0)[0])


def test_official_group_sizes():
    sizes = {g['name']: len(g['subsets']) for g in ceval_summary_groups()}
    assert sizes == {'ceval-stem': 20, 'ceval-social-science': 10, 'ceval-humanities': 11,
                     'ceval-other': 11, 'ceval-hard': 8, 'ceval': 52}


def test_demo_config_adds_ceval_when_the_data_root_has_it(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv('EVALKIT_DATA_ROOT', str(tmp_path))
    without = load_config('configs/eval_demo.py')
    monkeypatch.setenv('EVALKIT_DATA_ROOT', str(data_root))
    with_ceval = load_config('configs/eval_demo.py')
    assert 'ceval_gen_datasets' not in without
    assert len(with_ceval['ceval_gen_datasets']) == len(with_ceval['ceval_ppl_datasets']) == 3
    assert with_ceval['demo_gen_datasets'][0]['abbr'] == 'demo-en-gen'


def test_size_partitioner_balances_work():
    datasets = [{'abbr': f'd{i}'} for i in range(6)]
    tasks = SizePartitioner().partition([{'abbr': 'm'}], datasets, num_workers=2,
                                        sizes=[10, 9, 5, 4, 3, 1])
    loads = sorted(sum([10, 9, 5, 4, 3, 1][int(d['abbr'][1:])] for d in t['datasets']) for t in tasks)
    assert loads[-1] <= 16 * 4 / 3  # largest-first greedy stays within 4/3 of the best split
    assert sorted(d['abbr'] for t in tasks for d in t['datasets']) == [d['abbr'] for d in datasets]


def test_summary_rows_groups_and_missing(tmp_path, caplog):
    datasets = ceval_dataset_cfgs('gen', subjects=['logic', 'marxism', 'law'])
    models = [{'abbr': 'm1'}, {'abbr': 'm2'}]
    for model, scores in (('m1', {'logic': 50.0, 'marxism': 25.0, 'law': 30.0}),
                          ('m2', {'logic': 10.0, 'marxism': 20.0})):
        for subject, acc in scores.items():
            atomic_write_json(results_path(tmp_path, {'abbr': model}, {'abbr': 'ceval-' + subject}),
                              {'accuracy': acc})
    groups = [{'name': 'pair', 'subsets': ['ceval-logic', 'ceval-marxism']},
              {'name': 'all3', 'subsets': ['ceval-logic', 'ceval-marxism', 'ceval-law']}]
    text, paths = DefaultSummarizer(summary_groups=groups).summarize(models, datasets, tmp_path, 'T')
    rows = [line.split(',') for line in paths['csv'].read_text().splitlines()]
    assert rows[0] == ['dataset', 'version', 'metric', 'mode', 'm1', 'm1 stderr', 'm2', 'm2 stderr']
    assert [r[0] for r in rows[1:4]] == [d['abbr'] for d in datasets]
    assert rows[1][1:4] == [dataset_version(datasets[0]), 'accuracy', 'gen']
    by_name = {r[0]: r[4::2] for r in rows[1:]}
    assert by_name['ceval-law'] == ['30.00', '-']
    assert by_name['pair'] == ['37.50', '15.00']
    assert by_name['all3'] == ['35.00', '-']
    assert 'no predictions' in caplog.text
    assert paths['md'].read_text().startswith('| dataset')
    assert 'ceval-logic' in paths['txt'].read_text()


def test_ranges():
    rows = list(range(10))
    assert apply_range(rows, '[2:5]') == [2, 3, 4]
    assert apply_range(rows, ':3') == [0, 1, 2]
    assert apply_range(rows, 4) == [0, 1, 2, 3]
    with pytest.raises(EvalkitError):
        apply_range(rows, 'first ten')


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / 'x.json'
    atomic_write_json(path, {'a': 1})
    with pytest.raises(TypeError):
        atomic_write_json(path, {'a': object()})
    assert json.loads(path.read_text()) == {'a': 1}
    assert os.listdir(tmp_path) == ['x.json']
