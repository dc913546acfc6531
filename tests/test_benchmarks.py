"""CMMLU, MMLU, GSM8K and HumanEval: prompts and answer extraction against OpenCompass 0.5.4
(``fixtures/opencompass_prompts.json``, made by ``fixtures/make_opencompass_prompts.py``), the
loaders and summary groups, the data preparers, and a run of each with the real SmolLM2."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from evalkit.cli import main
from evalkit.datasets.cmmlu import (CMMLU_ANSWER_PATTERN, CMMLUDataset, cmmlu_dataset_cfgs,
                                    cmmlu_summary_groups)
from evalkit.datasets.gsm8k import (GSM8KDataset, gsm8k_dataset_cfgs, gsm8k_dataset_postprocess,
                                    gsm8k_postprocess)
from evalkit.datasets.humaneval import HumanevalDataset, humaneval_dataset_cfgs, humaneval_postprocess
from evalkit.datasets.mmlu import (MMLU_ANSWER_PATTERN, MMLUDataset, mmlu_dataset_cfgs,
                                   mmlu_summary_groups)
from evalkit.datasets.multiple_choice import match_answer_pattern
from evalkit.models import HuggingFaceBaseModel, HuggingFacewithChatTemplate
from evalkit.pipeline import default_groups
from evalkit.registry import build
from evalkit.tasks.base import check_dataset, load_splits
from evalkit.utils.errors import EvalkitError
from project import load_tool, only_run

PROJECT = Path(__file__).resolve().parents[1]
REFERENCE = json.loads((PROJECT / 'tests' / 'fixtures' / 'opencompass_prompts.json')
                       .read_text(encoding='utf-8'))
SUBJECT = 'high_school_physics'


@pytest.fixture(scope='module')
def bench_root(data_root):
    for folder in ('cmmlu', 'mmlu', 'gsm8k', 'humaneval'):
        if not (data_root / folder).is_dir():
            pytest.skip(f'{folder} not found under {data_root}')
    return data_root


@pytest.fixture(scope='module')
def chat_model(tiny_model_dir):
    return HuggingFacewithChatTemplate(str(tiny_model_dir), max_seq_len=4096)


@pytest.fixture(scope='module')
def base_model(tiny_model_dir):
    return HuggingFaceBaseModel(str(tiny_model_dir), max_seq_len=4096)


def _first_request(model, cfg, data_root):
    """The first test row's request, built as the infer task builds it."""
    train, test, reader = load_splits(cfg, str(data_root))
    infer = cfg['infer_cfg']
    ice_template = build(infer['ice_template']) if infer.get('ice_template') else None
    prompt_template = build(infer['prompt_template']) if infer.get('prompt_template') else ice_template
    ids = build(infer['retriever']).retrieve(len(train), len(test))
    inferencer = build(infer['inferencer'], max_seq_len=model.max_seq_len)
    return inferencer.build(model, prompt_template, ice_template, ids[:1], train, test[:1],
                            reader['output_column'])[0]


CASES = {
    'cmmlu_gen': lambda: cmmlu_dataset_cfgs('gen', subjects=[SUBJECT])[0],
    'cmmlu_ppl': lambda: cmmlu_dataset_cfgs('ppl', subjects=[SUBJECT])[0],
    'mmlu_gen': lambda: mmlu_dataset_cfgs('gen', subjects=[SUBJECT])[0],
    'mmlu_ppl': lambda: mmlu_dataset_cfgs('ppl', subjects=[SUBJECT])[0],
    'gsm8k_gen': lambda: gsm8k_dataset_cfgs()[0],
    'humaneval_gen': lambda: humaneval_dataset_cfgs()[0],
}


# ------------------------------------------------------------------------------------ prompts

@pytest.mark.parametrize('case', [c for c in CASES if c.endswith('_gen')])
def test_gen_chat_prompt_matches_opencompass(case, chat_model, bench_root):
    ref = REFERENCE['prompts'][case]
    cfg = CASES[case]()
    assert cfg['abbr'] == ref['abbr']
    request = _first_request(chat_model, cfg, bench_root)
    assert request['origin_prompt'] == ref['messages']
    if case == 'humaneval_gen':  # OpenCompass keeps the task id as gold, evalkit what the tests need
        assert request['gold']['entry_point'] == 'has_close_elements'
        assert request['gold']['prompt'] in ref['messages'][0]['content']
    else:
        assert request['gold'] == ref['gold']
    assert cfg['infer_cfg']['inferencer'].get('max_out_len') == ref['max_out_len']


@pytest.mark.parametrize('case', [c for c in CASES if c.endswith('_ppl')])
def test_ppl_prompts_match_opencompass(case, base_model, bench_root):
    ref = REFERENCE['prompts'][case]
    cfg = CASES[case]()
    assert cfg['abbr'] == ref['abbr']
    request = _first_request(base_model, cfg, bench_root)
    assert request['origin_prompt'] == ref['ppl_texts']
    assert request['n_examples'] == ref['n_examples'] == 5
    assert request['gold'] == ref['gold']


def test_every_subject_and_split_has_a_config():
    assert len(cmmlu_dataset_cfgs('gen')) == len(cmmlu_dataset_cfgs('ppl')) == 67
    assert len(mmlu_dataset_cfgs('gen')) == len(mmlu_dataset_cfgs('ppl', split='val')) == 57
    val = mmlu_dataset_cfgs('gen', split='val', subjects=['anatomy'])[0]
    assert val['abbr'] == 'lukaemon_mmlu_val_anatomy' and val['reader_cfg']['test_split'] == 'val'
    with pytest.raises(ValueError):
        cmmlu_dataset_cfgs('chat')


# ------------------------------------------------------------------------------ answer extraction

EXTRACTORS = {
    'gsm8k_postprocess': gsm8k_postprocess,
    'gsm8k_dataset_postprocess': gsm8k_dataset_postprocess,
    'humaneval_postprocess_v2': humaneval_postprocess,
    'cmmlu_answer': lambda text: match_answer_pattern(text, CMMLU_ANSWER_PATTERN),
    'mmlu_answer': lambda text: match_answer_pattern(text, MMLU_ANSWER_PATTERN),
}


@pytest.mark.parametrize('name', list(EXTRACTORS))
def test_answer_extraction_matches_opencompass(name):
    pairs = REFERENCE['postprocess'][name]
    assert [EXTRACTORS[name](text) for text, _ in pairs] == [expected for _, expected in pairs]


def test_gen_configs_extract_with_their_patterns():
    for cfg, answer in ((cmmlu_dataset_cfgs('gen', subjects=[SUBJECT])[0], '...\n答案: C'),
                        (mmlu_dataset_cfgs('gen', subjects=[SUBJECT])[0], '...\nANSWER: C')):
        post = dict(cfg['eval_cfg']['pred_postprocessor'])
        assert post.pop('type')(answer, **post) == 'C'


# ------------------------------------------------------------------------------ summary groups

@pytest.mark.parametrize('name,groups', [('cmmlu', cmmlu_summary_groups), ('mmlu', mmlu_summary_groups)])
def test_summary_groups_match_opencompass(name, groups):
    ours = {g['name']: dict(subsets=sorted(g['subsets']),
                            **({'weights': g['weights']} if 'weights' in g else {}))
            for g in groups()}
    assert ours == REFERENCE['summary_groups'][name]


def test_default_groups_show_complete_benchmarks_only():
    mmlu_val = mmlu_dataset_cfgs('gen', split='val')
    names = [g['name'] for g in default_groups(mmlu_val)]
    assert names == ['mmlu_val-humanities', 'mmlu_val-stem', 'mmlu_val-social-science', 'mmlu_val-other',
                     'mmlu_val']
    cmmlu = cmmlu_dataset_cfgs('ppl')
    assert [g['name'] for g in default_groups(cmmlu)][-1] == 'cmmlu'
    assert len(default_groups(cmmlu)) == 6
    # One subject short: no overall average; its categories that are complete stay.
    partial = [g['name'] for g in default_groups(cmmlu[1:])]
    assert 'cmmlu' not in partial and 'cmmlu-stem' in partial and 'cmmlu-other' not in partial
    names = [g['name'] for g in default_groups(mmlu_dataset_cfgs('ppl') + gsm8k_dataset_cfgs())]
    assert names[-2:] == ['mmlu', 'mmlu-weighted']


# ------------------------------------------------------------------------------------ loaders

def test_loaders_read_every_row(bench_root):
    assert sum(len(load_splits(c, str(bench_root))[1]) for c in cmmlu_dataset_cfgs('ppl')) == 11582
    _, test, _ = load_splits(gsm8k_dataset_cfgs()[0], str(bench_root))
    assert len(test) == 1319
    train, _, _ = load_splits(gsm8k_dataset_cfgs()[0], str(bench_root))
    assert len(train) == 7473
    _, problems, _ = load_splits(humaneval_dataset_cfgs()[0], str(bench_root))
    assert len(problems) == 164 and problems[163]['task_id'] == 'HumanEval/163'
    val = sum(len(MMLUDataset.load(name=c['name'], data_root=str(bench_root))['val'])
              for c in mmlu_dataset_cfgs('gen'))
    assert val == 1531


def test_gsm8k_gold_solutions_score_what_opencompass_reads(bench_root):
    """The test rows' own solutions, read back by the GSM8K answer extraction, give the gold
    number, except where it has thousands commas ("1,600"): like OpenCompass's, the extraction
    then reads only the last group."""
    _, test, _ = load_splits(gsm8k_dataset_cfgs()[0], str(bench_root))
    evaluator = build(gsm8k_dataset_cfgs()[0]['eval_cfg']['evaluator'])
    metrics = evaluator.score([gsm8k_postprocess(r['solution']) for r in test],
                              [gsm8k_dataset_postprocess(r['answer']) for r in test])
    with_commas = sum(',' in r['answer'].rpartition('#### ')[2] for r in test)
    assert 0 < with_commas < 50
    assert metrics['accuracy'] == pytest.approx(100 * (len(test) - with_commas) / len(test))


def test_humaneval_canonical_solutions_pass(bench_root):
    """The loader's references run the canonical solutions to pass@1 = 100, and a wrong body fails."""
    _, problems, reader = load_splits(humaneval_dataset_cfgs()[0], str(bench_root))
    rows = problems[:12]
    evaluator = build(humaneval_dataset_cfgs()[0]['eval_cfg']['evaluator'])
    refs = [r[reader['output_column']] for r in rows]
    assert evaluator.score([r['canonical_solution'] for r in rows], refs)['pass@1'] == 100.0
    assert evaluator.score(['    return None\n'] * len(rows), refs)['pass@1'] == 0.0


def _write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='') as f:
        csv.writer(f).writerows(rows)


def test_malformed_rows_name_file_line_and_field(tmp_path):
    good = ['问题', '甲', '乙', '丙', '丁']
    _write_csv(tmp_path / 'cmmlu' / 'dev' / 'anatomy.csv', [['', 'Question', 'A', 'B', 'C', 'D', 'Answer'],
                                                            ['0', *good, 'A']])
    _write_csv(tmp_path / 'cmmlu' / 'test' / 'anatomy.csv', [['', 'Question', 'A', 'B', 'C', 'D', 'Answer'],
                                                             ['0', *good, 'B'], ['1', *good, 'E']])
    with pytest.raises(EvalkitError, match=r'test/anatomy\.csv: line 3: field Answer is .E.'):
        CMMLUDataset.load('cmmlu', 'anatomy', data_root=str(tmp_path))
    for split in ('dev', 'val', 'test'):
        _write_csv(tmp_path / 'mmlu' / split / f'anatomy_{split}.csv', [['q', 'a', 'b', 'c', 'd', 'A']])
    _write_csv(tmp_path / 'mmlu' / 'val' / 'anatomy_val.csv',
               [['q', 'a', 'b', 'c', 'd', 'A'], ['q', 'a', 'b', 'A']])
    with pytest.raises(EvalkitError, match=r'val/anatomy_val\.csv: line 2: 4 fields, expected 6'):
        MMLUDataset.load('mmlu', 'anatomy', data_root=str(tmp_path))
    gsm = tmp_path / 'gsm8k'
    gsm.mkdir()
    (gsm / 'train.jsonl').write_text('{"question": "q", "answer": "a\\n#### 1"}\n')
    (gsm / 'test.jsonl').write_text('{"question": "q", "answer": "a\\n#### 1"}\n{"question": "q"}\n')
    with pytest.raises(EvalkitError, match=r"test\.jsonl: line 2: field 'answer' is missing"):
        GSM8KDataset.load('gsm8k', data_root=str(tmp_path))
    (gsm / 'test.jsonl').write_text('{"question": "q", "answer": "no final number"}\n')
    with pytest.raises(EvalkitError, match=r"test\.jsonl: line 1: field 'answer' lacks"):
        GSM8KDataset.load('gsm8k', data_root=str(tmp_path))
    he = tmp_path / 'humaneval.jsonl'
    he.write_text('{"task_id": "X/0", "prompt": "def f():\\n"\n')
    with pytest.raises(EvalkitError, match=r'humaneval\.jsonl: line 1: not valid JSON'):
        HumanevalDataset.load(str(he))


@pytest.mark.parametrize('cfg', [cmmlu_dataset_cfgs('gen', subjects=['anatomy'])[0],
                                 mmlu_dataset_cfgs('ppl', subjects=['anatomy'])[0],
                                 gsm8k_dataset_cfgs()[0], humaneval_dataset_cfgs()[0]],
                         ids=['cmmlu', 'mmlu', 'gsm8k', 'humaneval'])
def test_missing_data_stops_with_the_prepare_command(cfg, tmp_path):
    bench = cfg['path'].split('/')[2]
    with pytest.raises(EvalkitError,
                       match=rf'data file not found: .*python tools/prepare_data\.py {bench} --source'):
        check_dataset(cfg, str(tmp_path))


# ------------------------------------------------------------------------------- data preparers

prepare_data = load_tool('prepare_data')


def _tree(root):
    return sorted(p.relative_to(root).as_posix() for p in Path(root).rglob('*') if p.is_file())


@pytest.mark.parametrize('bench,installed', [
    ('cmmlu', 'cmmlu'), ('mmlu', 'mmlu'), ('gsm8k', 'gsm8k'),
    ('humaneval', 'humaneval/human-eval-v2-20210705.jsonl')])
def test_prepare_from_the_shared_folders(bench, installed, bench_root, tmp_path, capsys):
    root = tmp_path / 'root'
    rc = prepare_data.main([bench, '--source', str(bench_root / bench), '--data-root', str(root)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert len(out.out.strip().splitlines()) == 1 and f'prepared' in out.out
    src, dest = bench_root / installed, root / installed
    if src.is_file():
        assert dest.read_bytes() == src.read_bytes()
        return
    files = _tree(dest)
    assert files and all((dest / f).read_bytes() == (src / f).read_bytes() for f in files)
    expected = {'cmmlu': 134, 'mmlu': 171, 'gsm8k': 2}[bench]
    assert len([f for f in files if f.endswith(('.csv', '.jsonl'))]) == expected
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]  # no temporary folders left


def test_prepare_humaneval_from_the_gzip(bench_root, tmp_path, capsys):
    root = tmp_path / 'root'
    rc = prepare_data.main(['humaneval', '--source', str(bench_root / 'humaneval' / 'HumanEval.jsonl.gz'),
                            '--data-root', str(root)])
    assert rc == 0, capsys.readouterr().err
    installed = root / 'humaneval' / 'human-eval-v2-20210705.jsonl'
    assert installed.read_bytes() == (bench_root / 'humaneval' / 'human-eval-v2-20210705.jsonl').read_bytes()


def test_prepare_humaneval_from_a_url(bench_root, tmp_path, capsys, monkeypatch):
    # A local HTTP server stands in for the official download; no network is needed.
    import functools
    import http.server
    import threading
    for var in ('http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY'):
        monkeypatch.delenv(var, raising=False)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(bench_root / 'humaneval'))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f'http://127.0.0.1:{server.server_address[1]}/HumanEval.jsonl.gz'
        rc = prepare_data.main(['humaneval', '--source', url, '--data-root', str(tmp_path / 'root')])
        assert rc == 0, capsys.readouterr().err
    finally:
        server.shutdown()
        server.server_close()
    installed = tmp_path / 'root' / 'humaneval' / 'human-eval-v2-20210705.jsonl'
    assert installed.read_bytes() == (bench_root / 'humaneval' / 'human-eval-v2-20210705.jsonl').read_bytes()


def test_prepare_count_mismatch_fails_and_keeps_what_was_there(bench_root, tmp_path, capsys):
    src = tmp_path / 'gsm8k-src'
    src.mkdir()
    lines = (bench_root / 'gsm8k' / 'test.jsonl').read_text(encoding='utf-8').splitlines(keepends=True)
    (src / 'test.jsonl').write_text(''.join(lines[:-1]), encoding='utf-8')
    (src / 'train.jsonl').write_bytes((bench_root / 'gsm8k' / 'train.jsonl').read_bytes())
    root = tmp_path / 'root'
    (root / 'gsm8k').mkdir(parents=True)
    (root / 'gsm8k' / 'keep.txt').write_text('old')
    rc = prepare_data.main(['gsm8k', '--source', str(src), '--data-root', str(root)])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and 'Traceback' not in err
    assert 'test.jsonl' in err and '1318 rows' in err and '1319' in err
    assert _tree(root / 'gsm8k') == ['keep.txt']


def test_prepare_mmlu_missing_subject_is_an_error(bench_root, tmp_path, capsys):
    import shutil
    src = tmp_path / 'data'
    shutil.copytree(bench_root / 'mmlu', src)
    (src / 'val' / 'virology_val.csv').unlink()
    rc = prepare_data.main(['mmlu', '--source', str(src), '--data-root', str(tmp_path / 'root')])
    err = capsys.readouterr().err
    assert rc == 2 and 'val/virology_val.csv' in err and 'lacks 1 of 171' in err
    assert not (tmp_path / 'root').exists()


# ------------------------------------------------------------------------- end to end, SmolLM2

MODEL = 'SmolLM2-135M-Instruct.Q4_1'
E2E_CONFIG = '''
from evalkit.datasets.cmmlu import cmmlu_dataset_cfgs
from evalkit.datasets.gsm8k import gsm8k_dataset_cfgs
from evalkit.datasets.humaneval import humaneval_dataset_cfgs
from evalkit.datasets.mmlu import mmlu_dataset_cfgs

datasets = (cmmlu_dataset_cfgs('gen', subjects=['anatomy']) + cmmlu_dataset_cfgs('ppl', subjects=['arts'])
            + mmlu_dataset_cfgs('gen', split='val', subjects=['anatomy'])
            + mmlu_dataset_cfgs('ppl', split='val', subjects=['astronomy'])
            + gsm8k_dataset_cfgs(max_out_len=48) + humaneval_dataset_cfgs())
for d in datasets:
    d['reader_cfg']['test_range'] = '[0:2]'
'''
ROWS = 2


@pytest.fixture(scope='module')
def e2e_run(smollm2, bench_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('bench-e2e')
    config = work / 'bench_e2e.py'
    config.write_text(E2E_CONFIG)
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        # One torch thread: on two cores shared with other processes a second thread mostly waits
        # (decoding measured ten times slower with two).
        mp.setenv('EVALKIT_NUM_THREADS', '1')
        rc = main([str(config), '--hf-path', smollm2, '--max-out-len', '48', '--batch-size', '4',
                   '--data-root', str(bench_root), '-w', str(work / 'out'), '--debug'])
    torch.set_num_threads(threads)
    assert rc == 0
    return only_run(work / 'out')


ABBRS = ['cmmlu-anatomy', 'cmmlu-arts', 'lukaemon_mmlu_val_anatomy', 'lukaemon_mmlu_val_astronomy', 'gsm8k',
         'openai_humaneval']


def test_e2e_results_and_summary(e2e_run):
    metrics = {}
    for abbr in ABBRS:
        preds = json.loads((e2e_run / 'predictions' / MODEL / f'{abbr}.json').read_text())
        assert len(preds) == ROWS and all(isinstance(p['prediction'], str) for p in preds.values())
        result = json.loads((e2e_run / 'results' / MODEL / f'{abbr}.json').read_text())
        metric = 'pass@1' if abbr == 'openai_humaneval' else 'accuracy'
        assert 0 <= result[metric] <= 100
        assert result[metric] * ROWS / 100 == pytest.approx(round(result[metric] * ROWS / 100))  # k of n
        metrics[abbr] = (metric, result[metric])
    summary = next((e2e_run / 'summary').glob('summary_*.csv')).read_text().splitlines()
    rows = {line.split(',')[0]: line.split(',') for line in summary[1:]}
    assert list(rows) == ABBRS
    for abbr, (metric, value) in metrics.items():
        assert rows[abbr][2] == metric and float(rows[abbr][4]) == pytest.approx(value, abs=0.01)
    assert [rows[a][3] for a in ABBRS] == ['gen', 'ppl', 'gen', 'ppl', 'gen', 'gen']


def test_e2e_scores_are_the_extracted_answers(e2e_run):
    """Each accuracy is the share of extracted answers equal to gold, recomputed here."""
    for abbr, extract, gold in [
            ('cmmlu-anatomy', lambda t: match_answer_pattern(t, CMMLU_ANSWER_PATTERN), lambda g: g),
            ('lukaemon_mmlu_val_anatomy', lambda t: match_answer_pattern(t, MMLU_ANSWER_PATTERN), lambda g: g),
            ('gsm8k', gsm8k_postprocess, gsm8k_dataset_postprocess),
            ('cmmlu-arts', lambda t: t, lambda g: g)]:
        preds = json.loads((e2e_run / 'predictions' / MODEL / f'{abbr}.json').read_text()).values()
        right = sum(extract(p['prediction']) == gold(p['gold']) for p in preds)
        result = json.loads((e2e_run / 'results' / MODEL / f'{abbr}.json').read_text())
        assert result['accuracy'] == pytest.approx(100 * right / ROWS), abbr
    gsm = json.loads((e2e_run / 'predictions' / MODEL / 'gsm8k.json').read_text())['0']
    assert [m['role'] for m in gsm['origin_prompt']] == ['user', 'assistant'] * 4 + ['user']


def test_e2e_humaneval_pass_at_1_is_what_the_completions_do(e2e_run, tmp_path):
    preds = json.loads((e2e_run / 'predictions' / MODEL / 'openai_humaneval.json').read_text())
    passed = 0
    for i, p in sorted(preds.items()):
        ref = p['gold']
        program = (ref['prompt'] + humaneval_postprocess(p['prediction']) + '\n' + ref['test'] + '\n'
                   + f"check({ref['entry_point']})")
        script = tmp_path / f'problem_{i}.py'
        script.write_text(program)
        try:
            run = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=10, cwd=tmp_path)
            passed += run.returncode == 0
        except subprocess.TimeoutExpired:
            pass
    result = json.loads((e2e_run / 'results' / MODEL / 'openai_humaneval.json').read_text())
    assert result['pass@1'] == pytest.approx(100 * passed / len(preds))
