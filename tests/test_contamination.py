"""Contamination analysis on real data: the overlap tool on a corpus with planted C-Eval and MMLU
samples, the clean-subset evaluation with SmolLM2, and the perplexity report."""
import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from project import load_tool

PROJECT = Path(__file__).resolve().parents[1]
CLEAN, INPUT, BOTH = 'clean', 'input contaminated', 'input-and-label contaminated'
SUBJECTS = ['computer_network', 'logic', 'astronomy']


def _tool():
    return load_tool('contamination')


def _rows(data_root, bench, subject):
    folder = data_root / ('ceval/formal_ceval/val' if bench == 'ceval' else 'mmlu/val')
    with open(folder / f'{subject}_val.csv', encoding='utf-8', newline='') as f:
        if bench == 'ceval':
            return list(csv.DictReader(f))
        return [dict(zip(['question', 'A', 'B', 'C', 'D', 'answer'], r)) for r in csv.reader(f)]


def _item(row, answer=None, cue='答案：', letters=True):
    lines = [row['question']] + [(f'{o}. ' if letters else '') + row[o] for o in 'ABCD']
    if answer:
        lines.append(cue + answer)
    return '\n'.join(lines)


def _edit(text):
    """Small edits a copy picks up on the web: a changed character, ASCII punctuation, spaces."""
    chars = list(text.replace('，', ', ').replace('。', '. '))
    middle = len(chars) // 2
    chars[middle] = '之' if chars[middle] != '之' else '的'
    return ' '.join(''.join(chars).split('\n'))


@pytest.fixture(scope='module')
def planted(data_root, tmp_path_factory):
    """A corpus in three formats over real text (Chinese news, Paul Graham's essays), with known
    benchmark samples planted in it; returns (corpus files, the labels expected)."""
    folder = tmp_path_factory.mktemp('corpus')
    net = _rows(data_root, 'ceval', 'computer_network')
    logic = _rows(data_root, 'ceval', 'logic')
    astro = _rows(data_root, 'mmlu', 'astronomy')
    haystack = data_root / 'needle_haystack'
    news = [json.loads(line)['text'] for line in
            (haystack / 'ChineseDomainModelingEval' / 'zh_news.jsonl').read_text(encoding='utf-8').splitlines()[:60]]
    essays = [p.read_text(encoding='utf-8') for p in sorted((haystack / 'PaulGrahamEssays').glob('*.txt'))[:6]]
    expected = {
        ('ceval-computer_network', 3): BOTH,      # question, options and the answer
        ('ceval-computer_network', 5): INPUT,     # question and options only
        ('ceval-computer_network', 13): INPUT,    # followed by a wrong answer
        ('ceval-logic', 2): INPUT,                # small edits, no answer
        ('ceval-logic', 7): BOTH,                 # small edits, the answer in other words
        ('ceval-computer_network', 10): BOTH,     # answer given as the option's text
        ('lukaemon_mmlu_val_astronomy', 1): INPUT,
        ('lukaemon_mmlu_val_astronomy', 4): BOTH,
    }
    wrong = 'ABCD'[('ABCD'.index(net[13]['answer']) + 1) % 4]
    quarter = logic[11]['question'][:len(logic[11]['question']) // 4]   # too little to count
    jsonl_docs = news[:20] + [
        news[20] + '\n' + _item(net[3], net[3]['answer']) + '\n' + news[21],
        '练习题\n' + _item(net[5]) + '\n' + news[22][:300],
        _item(net[13], wrong) + '\n' + news[23][:200],
        news[24] + quarter,
    ] + news[25:40]
    with open(folder / 'web.jsonl', 'w', encoding='utf-8') as f:
        for i, text in enumerate(jsonl_docs):
            f.write(json.dumps({'id': i, 'content': text}, ensure_ascii=False) + '\n')
    paragraphs = essays[:3] + [
        _edit(_item(logic[2], letters=False)),
        _edit(_item(logic[7])) + f' 正确答案是 ( {logic[7]["answer"]} ) ',
        'Quiz.\n' + _item(astro[1], letters=False),
        essays[3],
    ]
    (folder / 'essays.txt').write_text('\n\n'.join(paragraphs), encoding='utf-8')
    option = net[10][net[10]['answer']]
    parquet_docs = news[40:55] + [
        _item(net[10]) + f'\n参考答案：{option}',
        _item(astro[4], astro[4]['answer'], cue='The answer is (') + ').\n' + essays[4][:500],
    ] + essays[4:6]
    pq.write_table(pa.table({'content': parquet_docs}), folder / 'books.parquet', row_group_size=4)
    return [str(folder / n) for n in ('web.jsonl', 'essays.txt', 'books.parquet')], expected


@pytest.fixture(scope='module')
def annotations(planted, data_root, tmp_path_factory):
    corpus, _ = planted
    out = tmp_path_factory.mktemp('ann') / 'annotations.json'
    assert _tool().main(['overlap', '--corpus', *corpus, '--dataset', 'ceval_ppl', 'mmlu_val_ppl',
                         '--subsets', *SUBJECTS, '--text-field', 'content', '--data-root', str(data_root),
                         '--out', str(out)]) == 0
    return json.loads(out.read_text(encoding='utf-8'))


def test_overlap_finds_exactly_the_planted_samples(annotations, planted):
    _, expected = planted
    found = {(abbr, s['index']): s['label'] for abbr, entry in annotations['datasets'].items()
             for s in entry['samples'] if s['label'] != CLEAN}
    assert found == expected
    assert annotations['datasets']['ceval-computer_network']['num_samples'] == 19
    assert annotations['datasets']['ceval-computer_network']['counts'] == {CLEAN: 15, INPUT: 2, BOTH: 2}
    # The evidence names the document: file and line or row.
    by_index = {s['index']: s for s in annotations['datasets']['ceval-computer_network']['samples']}
    assert by_index[3]['source'].endswith('web.jsonl:line 21')
    assert by_index[10]['source'].endswith('books.parquet:row 16')
    assert by_index[3]['input_overlap'] == 1.0
    assert [f['documents'] for f in annotations['corpus']['files']][::2] == [39, 19]


def test_overlap_in_parallel_workers_gives_the_same_annotations(annotations, planted, data_root, tmp_path):
    corpus, _ = planted
    out = tmp_path / 'parallel.json'
    assert _tool().main(['overlap', '--corpus', *corpus, '--dataset', 'ceval_ppl', 'mmlu_val_ppl',
                         '--subsets', *SUBJECTS, '--text-field', 'content', '--data-root', str(data_root),
                         '--workers', '2', '--out', str(out)]) == 0
    parallel = json.loads(out.read_text(encoding='utf-8'))
    assert parallel['datasets'] == annotations['datasets']
    assert parallel['corpus']['files'] == annotations['corpus']['files']


def test_overlap_errors_name_the_file_and_the_fix(planted, data_root, tmp_path, capsys):
    corpus, _ = planted
    args = ['overlap', '--dataset', 'ceval_ppl', '--subsets', 'logic', '--data-root', str(data_root),
            '--out', str(tmp_path / 'a.json')]
    assert _tool().main(args + ['--corpus', corpus[0]]) == 2   # the text is under 'content'
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and "no field 'text'" in err and '--text-field' in err
    assert _tool().main(args + ['--corpus', str(tmp_path / 'missing.jsonl')]) == 2
    assert 'corpus file not found' in capsys.readouterr().err
    assert not (tmp_path / 'a.json').exists()


@pytest.fixture(scope='module')
def clean_run(planted, smollm2, data_root, tmp_path_factory):
    """Annotations from the tool, then run.py on them: C-Eval computer_network in ppl mode, scored
    per contamination subset. To keep it quick, zero-shot on rows 2..7 (test_range), in a config
    generated from the C-Eval definition as ceval_clean_ppl is; both steps read that config."""
    from evalkit.cli import main
    corpus, _ = planted
    folder = tmp_path_factory.mktemp('clean')
    annotations = folder / 'annotations.json'
    config = folder / 'eval_clean.py'
    config.write_text('from evalkit.datasets.ceval import ceval_dataset_cfgs\n\n'
                      "ceval_datasets = ceval_dataset_cfgs(mode='ppl', shots=0, subjects=['computer_network'],\n"
                      f"                                   annotations={str(annotations)!r})\n"
                      "ceval_datasets[0]['reader_cfg']['test_range'] = '[2:8]'\n")
    assert _tool().main(['overlap', '--corpus', *corpus, '--dataset', str(config), '--text-field', 'content',
                         '--data-root', str(data_root), '--out', str(annotations)]) == 0
    work = folder / 'runs'
    assert main([str(config), '--hf-path', smollm2, '--hf-type', 'base', '--data-root', str(data_root),
                 '-w', str(work), '--debug']) == 0
    [run] = [p for p in work.iterdir() if p.is_dir()]
    return run


def test_clean_subset_scores_and_summary(clean_run):
    result = json.loads(next((clean_run / 'results').rglob('ceval-computer_network.json')).read_text())
    details = result['details']
    assert len(details) == 6
    # Rows 3 and 5 of the split are rows 1 and 3 of the range.
    assert [d['contamination'] for d in details] == [CLEAN, BOTH, CLEAN, INPUT, CLEAN, CLEAN]
    for subset, count in ((CLEAN, 4), (INPUT, 1), (BOTH, 1)):
        members = [d for d in details if d['contamination'] == subset]
        assert len(members) == count == result[f'num_samples - {subset}']
        assert result[f'accuracy - {subset}'] == pytest.approx(100 * sum(d['correct'] for d in members) / count)
    assert result['accuracy'] == pytest.approx(100 * sum(d['correct'] for d in details) / 6)
    [summary] = (clean_run / 'summary').glob('summary_*.csv')
    rows = list(csv.reader(summary.open(encoding='utf-8')))
    assert [r[2] for r in rows[1:]] == ['accuracy', 'accuracy - clean (n=4)', 'accuracy - input contaminated (n=1)',
                                       'accuracy - input-and-label contaminated (n=1)']
    assert rows[2][4] == f'{result["accuracy - clean"]:.2f}'
    assert rows[2][5] == f'{result["accuracy - clean_stderr"]:.2f}'


PPL_SUBJECTS = ['basic_medicine', 'art_studies']   # short items: quick to score
READINGS = ('possible contamination', 'weak sign', 'no sign of contamination', 'too few items')


@pytest.fixture(scope='module')
def ppl_model(smollm2):
    from evalkit.registry import build
    model = build(dict(type='HuggingFaceBaseModel', path=smollm2, max_seq_len=2048))
    yield model
    model.close()


def _ceval(subjects):
    from evalkit.cli import select_subsets
    from evalkit.config import load_named
    return select_subsets(load_named('datasets', ['ceval_ppl']), subjects)


def test_perplexity_report_on_two_ceval_subjects(ppl_model, data_root, tmp_path):
    import math

    from evalkit.contamination.perplexity import item_text, perplexity_report
    from evalkit.contamination.report import perplexity_table
    from evalkit.tasks.base import load_splits
    report = perplexity_report({'abbr': 'smollm2'}, _ceval(PPL_SUBJECTS), max_items=3, data_root=str(data_root),
                               model=ppl_model)
    entries = {e['dataset']: e for e in report['datasets']}
    assert sorted(entries) == ['all', 'ceval-art_studies', 'ceval-basic_medicine']
    for name, entry in entries.items():
        test, ref = entry['test'], entry['reference']
        assert (test['items'], ref['items']) == ((6, 6) if name == 'all' else (3, 3))
        assert 1 < test['perplexity'] < 1000 and 1 < ref['perplexity'] < 1000
        assert entry['ratio'] == pytest.approx(test['perplexity'] / ref['perplexity'])
        low, high = entry['ratio_ci95']
        assert low < entry['ratio'] < high
        assert any(r in entry['reading'] for r in READINGS)
    assert 'ceval-art_studies' in perplexity_table(report)

    # Reference items that are the test items themselves: the same perplexity, ratio exactly 1.
    _, test_rows, _ = load_splits(_ceval(['art_studies'])[0], str(data_root))
    same = tmp_path / 'same.jsonl'
    same.write_text(''.join(json.dumps({'text': item_text(r, ['question', 'A', 'B', 'C', 'D'], 'answer')},
                                       ensure_ascii=False) + '\n' for r in test_rows[:3]), encoding='utf-8')
    [entry] = perplexity_report({'abbr': 'smollm2'}, _ceval(['art_studies']), reference=str(same), max_items=3,
                                data_root=str(data_root), model=ppl_model)['datasets']
    assert entry['ratio'] == pytest.approx(1.0, abs=1e-9)
    assert math.isclose(entry['test']['perplexity'], entry['reference']['perplexity'])
    assert entry['reading'] == 'no clear difference from unseen items: no sign of contamination'


def test_ppl_tool_errors_are_one_line(data_root, tmp_path, capsys):
    base = ['ppl', '--datasets', 'ceval_ppl', '--subsets', 'art_studies', '--data-root', str(data_root)]
    assert _tool().main(base) == 2
    assert capsys.readouterr().err.strip() == \
        'contamination: error: name the model with --hf-path PATH or with --models NAME (one of them)'
    assert _tool().main(base + ['--models', 'smollm2_135m_instruct_base', '--reference', str(tmp_path / 'no.jsonl')]) == 2
    assert capsys.readouterr().err.strip().endswith(f'reference file not found: {tmp_path / "no.jsonl"}')


def test_evaluator_reads_opencompass_annotations_and_counts_unlabelled(tmp_path):
    """OpenCompass's C-Eval file (keys '<subject>-<index>'); a sample it lacks is 'not labeled'."""
    from evalkit.openicl.evaluators.contamination import ContaminationAccEvaluator
    oc = tmp_path / 'ceval_annotations.json'
    oc.write_text(json.dumps({'logic-0': [CLEAN, 0.1, 0.0], 'logic-1': [CLEAN, 0.0, 0.0],
                              'logic-2': [BOTH, 0.9, 0.8], 'marxism-0': [INPUT, 0.7, 0.0]}))
    evaluator = ContaminationAccEvaluator(annotations=str(oc), dataset='ceval-logic', name='logic')
    result = evaluator.score(['A', 'B', 'C', 'D'], ['A', 'C', 'C', 'D'])
    assert result['accuracy'] == 75.0
    assert (result['accuracy - clean'], result['num_samples - clean']) == (50.0, 2)
    assert (result[f'accuracy - {BOTH}'], result[f'num_samples - {BOTH}']) == (100.0, 1)
    assert (result['accuracy - not labeled'], result['num_samples - not labeled']) == (100.0, 1)
    assert f'accuracy - {INPUT}' not in result
    assert [d['contamination'] for d in result['details']] == [CLEAN, CLEAN, BOTH, 'not labeled']
    missing = ContaminationAccEvaluator(annotations=str(tmp_path / 'none.json'), dataset='x').score(['A'], ['A'])
    assert missing['error'].startswith(f'annotation file not found: {tmp_path / "none.json"} (make one with: ')


def test_group_rows_pool_the_subset_samples(tmp_path):
    """A group's subset rows equal the score of that subset's samples of all members together."""
    import random

    from evalkit.openicl.evaluators.contamination import ContaminationAccEvaluator
    from evalkit.summarizers.default import DefaultSummarizer
    from evalkit.tasks.base import results_path
    from evalkit.utils.fileio import atomic_write_json
    rng = random.Random(7)
    sizes = {'ceval-logic': 22, 'ceval-marxism': 19}
    labels = {abbr: [rng.choice([CLEAN, CLEAN, INPUT, BOTH]) for _ in range(n)] for abbr, n in sizes.items()}
    labels['ceval-marxism'] = [CLEAN if x == INPUT else x for x in labels['ceval-marxism']]  # none there
    file = tmp_path / 'ann.json'
    atomic_write_json(file, {'format': 'evalkit-contamination-annotations', 'datasets': {
        abbr: {'samples': [{'index': i, 'label': x} for i, x in enumerate(xs)]} for abbr, xs in labels.items()}})
    preds = {abbr: [rng.choice('ABCD') for _ in range(n)] for abbr, n in sizes.items()}
    gold = {abbr: [rng.choice('ABCD') for _ in range(n)] for abbr, n in sizes.items()}
    model = {'abbr': 'm'}
    datasets = _ceval(['logic', 'marxism'])
    for cfg in datasets:
        abbr = cfg['abbr']
        metrics = ContaminationAccEvaluator(str(file), abbr).score(preds[abbr], gold[abbr])
        atomic_write_json(results_path(tmp_path, model, cfg), metrics)
    summarizer = DefaultSummarizer(summary_groups=[{'name': 'both', 'subsets': list(sizes)}])
    summarizer.summarize([model], datasets, tmp_path, 'x')
    rows = {r[2]: r for r in csv.reader((tmp_path / 'summary' / 'summary_x.csv').open()) if r[0] == 'both'}
    for subset in (CLEAN, INPUT, BOTH):
        members = [(p, g) for abbr in sizes for p, g, x in zip(preds[abbr], gold[abbr], labels[abbr]) if x == subset]
        truth = ContaminationAccEvaluator(str(file), 'none').sample_scores(*zip(*members))['accuracy']
        expected = ContaminationAccEvaluator(str(file), 'none').summarize({'accuracy': truth})
        row = rows[f'accuracy - {subset} (n={len(members)})']
        assert row[4:] == [f'{expected["accuracy"]:.2f}', f'{expected["accuracy_stderr"]:.2f}']


def test_editing_the_annotation_file_scores_the_dataset_again(tmp_path):
    from evalkit.datasets.ceval import ceval_dataset_cfgs
    from evalkit.tasks.base import scoring_fingerprint
    annotations = tmp_path / 'ann.json'
    annotations.write_text('{"computer_network-0": ["clean"]}', encoding='utf-8')
    [dataset] = ceval_dataset_cfgs('ppl', subjects=['computer_network'], annotations=str(annotations))
    model = {'abbr': 'm', 'type': 'HuggingFaceBaseModel', 'path': 'x'}
    before = scoring_fingerprint(model, dataset)
    assert scoring_fingerprint(model, dataset) == before
    annotations.write_text('{"computer_network-0": ["input contaminated"]}', encoding='utf-8')
    assert scoring_fingerprint(model, dataset) != before
