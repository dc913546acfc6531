"""User datasets: JSONL/CSV files with no code, and Python plugins (next to a config, through
custom_imports, or dropped into evalkit/datasets/), end to end with SmolLM2 on a few rows."""
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.config import IMPORT_PATHS_ENV, collect, load_config
from evalkit.datasets.custom import OptionSimAccEvaluator, custom_dataset_cfg, edit_distance
from evalkit.registry import to_plain
from evalkit.tasks.base import load_splits
from evalkit.utils.errors import EvalkitError
from project import only_run

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLES = PROJECT / 'examples' / 'custom_dataset'
DOC = PROJECT / 'docs' / 'custom_dataset.md'
MODEL = 'SmolLM2-135M-Instruct.Q4_1'
WORLD_Q0 = 'Question: Which ocean is the largest?\nA. Atlantic\nB. Indian\nC. Pacific\nD. Arctic'


def _only_run(work_dir):
    return only_run(work_dir)


def _predictions(run, abbr):
    return json.loads((run / 'predictions' / MODEL / f'{abbr}.json').read_text())


def _results(run, abbr):
    return json.loads((run / 'results' / MODEL / f'{abbr}.json').read_text())


def _summary_rows(run):
    lines = next((run / 'summary').glob('summary_*.csv')).read_text().splitlines()
    return {line.split(',')[0]: line.split(',') for line in lines[1:]}


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding='utf-8')
    return path


def _jsonl(rows):
    return ''.join(json.dumps(r) + '\n' for r in rows)


@pytest.fixture
def isolated_imports(monkeypatch):
    """Loading a config puts its folder on sys.path and in the environment: undo that after."""
    monkeypatch.delenv(IMPORT_PATHS_ENV, raising=False)
    monkeypatch.setattr(sys, 'path', list(sys.path))


# ---------------------------------------------------------------------------- no-code files
@pytest.fixture(scope='module')
def gen_run(smollm2, tmp_path_factory):
    """One --debug run over three files: multiple choice (JSONL, given relative to the current
    directory), open questions with a meta file (CSV), plain open questions (CSV)."""
    tmp = tmp_path_factory.mktemp('custom-gen')
    capitals = _write(tmp / 'capitals.csv', 'question,answer\nWhat is the capital of Italy?,Rome\n'
                      'What is the capital of Japan?,Tokyo\nWhat is the capital of Egypt?,Cairo\n')
    cwd = os.getcwd()
    os.chdir(EXAMPLES)
    try:
        code = main(['--custom-dataset-path', 'world_mcq.jsonl', str(EXAMPLES / 'arithmetic_qa.csv'),
                     str(capitals), '--hf-path', smollm2, '--max-out-len', '8',
                     '-w', str(tmp / 'out'), '--debug'])
    finally:
        os.chdir(cwd)
    assert code == 0
    return _only_run(tmp / 'out')


def test_mcq_gen_sends_opencompass_custom_prompt(gen_run):
    preds = _predictions(gen_run, 'world_mcq')
    assert len(preds) == 4
    # A chat model gets the question alone: it writes the "Answer:" turn itself, as in OpenCompass.
    assert preds['0']['origin_prompt'] == [{'role': 'user', 'content': WORLD_Q0}]
    assert [p['gold'] for p in preds.values()] == ['C', 'A', 'B', 'D']


def test_mcq_gen_is_scored_by_option_similarity(gen_run):
    preds = _predictions(gen_run, 'world_mcq')
    result = _results(gen_run, 'world_mcq')
    details = result['details']
    assert [d['pred'] for d in details] == [p['prediction'] for p in preds.values()]
    for detail, pred in zip(details, preds.values()):
        letter = re.match(r'\s*([A-D])[.)]', pred['prediction'])
        if letter:  # an answer that starts with its letter is read as that letter
            assert detail['correct'] == (letter.group(1) == pred['gold'])
    assert result['accuracy'] == pytest.approx(100 * sum(d['correct'] for d in details) / 4)


def test_meta_file_sets_name_prompt_shots_and_evaluator(gen_run, isolated_imports):
    preds = _predictions(gen_run, 'arithmetic')
    assert len(preds) == 3  # shots=1: the first row is the example, not a test row
    assert preds['0']['origin_prompt'] == [
        {'role': 'user', 'content': 'Compute: What is 3 plus 4?'}, {'role': 'assistant', 'content': '7'},
        {'role': 'user', 'content': 'Compute: What is 10 minus 6, written as a number?'}]
    assert [p['gold'] for p in preds.values()] == ['4', '15', '5']
    result = _results(gen_run, 'arithmetic')
    assert all('pred_number' in d for d in result['details'])  # NumericMatchEvaluator's details
    dumped = load_config(gen_run / 'configs' / f'{gen_run.name}.py')
    cfg = next(d for d in dumped['datasets'] if d['abbr'] == 'arithmetic')
    assert cfg['infer_cfg']['inferencer']['max_out_len'] == 8
    assert cfg['path'] == str(EXAMPLES / 'arithmetic_qa.csv')


def test_csv_qa_gen_uses_the_question_and_exact_answers(gen_run):
    preds = _predictions(gen_run, 'capitals')
    assert [p['origin_prompt'] for p in preds.values()][1] == [
        {'role': 'user', 'content': 'What is the capital of Japan?'}]
    expected = 100 * sum(p['prediction'].strip() == p['gold'] for p in preds.values()) / 3
    assert _results(gen_run, 'capitals')['accuracy'] == pytest.approx(expected)


def test_relative_path_resolves_against_the_current_directory(gen_run, isolated_imports):
    dumped = load_config(gen_run / 'configs' / f'{gen_run.name}.py')
    assert next(d for d in dumped['datasets'] if d['abbr'] == 'world_mcq')['path'] == str(EXAMPLES / 'world_mcq.jsonl')
    assert set(_summary_rows(gen_run)) == {'world_mcq', 'arithmetic', 'capitals'}


def test_mcq_ppl_scores_every_option(smollm2, tmp_path):
    assert main(['--custom-dataset-path', str(EXAMPLES / 'world_mcq.jsonl'), '--custom-dataset-infer-method', 'ppl',
                 '--hf-path', smollm2, '--max-out-len', '8', '-w', str(tmp_path), '--debug']) == 0
    run = _only_run(tmp_path)
    preds = _predictions(run, 'world_mcq')
    assert preds['0']['origin_prompt'] == {o: f'{WORLD_Q0}\nAnswer: {o}' for o in 'ABCD'}
    for p in preds.values():
        assert p['prediction'] == min(p['ppl'], key=p['ppl'].get)
    expected = 100 * sum(p['prediction'] == p['gold'] for p in preds.values()) / 4
    assert _results(run, 'world_mcq')['accuracy'] == pytest.approx(expected)
    assert _summary_rows(run)['world_mcq'][3] == 'ppl'


def test_custom_files_combine_with_named_datasets(smollm2, tmp_path, capsys):
    assert main(['--datasets', 'demo_gen', '--custom-dataset-path', str(EXAMPLES / 'world_mcq.jsonl'),
                 '--hf-path', smollm2, '-w', str(tmp_path), '--dry-run']) == 0
    out = capsys.readouterr().out
    assert 'demo-en-gen' in out and 'world_mcq' in out


# ---------------------------------------------------------------------------- bad files
MCQ = dict(question='Q?', A='a', B='b', C='c', D='d', answer='A')

BAD_FILES = {
    'missing answer': ('bad.jsonl', _jsonl([MCQ, MCQ]) + '\n' + _jsonl([{k: v for k, v in MCQ.items() if k != 'answer'}]),
                       "bad.jsonl: line 4: field 'answer' missing"),  # the blank line 3 is counted
    'answer not an option': ('bad.csv', 'question,A,B,C,D,answer\nQ1,a,b,c,d,A\nQ2,a,b,c,d,B\nQ3,a,b,c,d,E\n',
                             "bad.csv: line 4: answer 'E' is not one of the options A-D"),
    'option missing': ('bad.jsonl', _jsonl([MCQ, {k: v for k, v in MCQ.items() if k != 'C'}]),
                       "bad.jsonl: line 2: field 'C' missing"),
    'bad json': ('bad.jsonl', _jsonl([MCQ]) + '{"question": "Q?", "A": "a" "B": "b"}\n',
                 'bad.jsonl: line 2: not valid JSON'),
    'not an object': ('bad.jsonl', _jsonl([MCQ]) + '["Q?", "a"]\n',
                      'bad.jsonl: line 2: a row must be a JSON object'),
    'empty answer': ('bad.csv', 'question,answer\nWho?,Ann\nWhere?,  \n', "bad.csv: line 3: field 'answer' is empty"),
    'wrong field count': ('bad.csv', 'question,answer\nWho?,Ann\n"Where, then?",Rome,extra\n',
                          'bad.csv: line 3: 3 fields, but the header has 2'),
    'empty file': ('empty.jsonl', '\n\n', 'empty.jsonl: the file is empty'),
    'unknown extension': ('my.txt', 'question,answer\n', "my.txt: unknown file type '.txt'"),
    'no question column': ('bad.csv', 'prompt,answer\nWho?,Ann\n', "bad.csv: line 2: field 'question' missing"),
}


@pytest.mark.parametrize('case', list(BAD_FILES))
def test_bad_rows_name_file_line_and_field(tmp_path, case):
    name, text, message = BAD_FILES[case]
    path = _write(tmp_path / name, text)
    with pytest.raises(EvalkitError) as err:
        custom_dataset_cfg(path)
    assert str(err.value).startswith(str(tmp_path / message.split(' ', 1)[0].rstrip(':')))
    assert message in str(err.value)


def test_missing_file_says_where_relative_paths_start(tmp_path):
    with pytest.raises(EvalkitError, match='nothere.jsonl: file not found .relative paths resolve against '
                                           'the current directory'):
        custom_dataset_cfg(tmp_path / 'nothere.jsonl')


BAD_META = {
    'misspelt key': ({'shot': 1}, "unknown key 'shot' (did you mean 'shots'?)"),
    'ppl on open questions': ({'infer_method': 'ppl', 'data_type': 'qa'}, 'ppl scores the options of a multiple-choice file'),
    'unknown evaluator': ({'evaluator': 'NoSuchEvaluator'}, "evaluator: unknown type 'NoSuchEvaluator'"),
    'too many shots': ({'shots': 3}, 'all 3 rows are taken as in-context examples (shots=3)'),
    'bad data type': ({'data_type': 'mcqs'}, "data_type 'mcqs' is not one of mcq, qa"),
}


@pytest.mark.parametrize('case', list(BAD_META))
def test_bad_meta_settings_are_named(tmp_path, case):
    meta, message = BAD_META[case]
    path = _write(tmp_path / 'three.jsonl', _jsonl([MCQ] * 3))
    _write(tmp_path / 'three.jsonl.meta.json', json.dumps(meta))
    with pytest.raises(EvalkitError, match=re.escape(message)):
        custom_dataset_cfg(path)


def test_bad_file_stops_the_cli_before_the_model_loads(smollm2, tmp_path, caplog):
    path = _write(tmp_path / 'bad.csv', BAD_FILES['answer not an option'][1])
    assert main(['--custom-dataset-path', str(path), '--hf-path', smollm2, '-w', str(tmp_path / 'out')]) == 2
    assert f"{path}: line 4: answer 'E' is not one of the options A-D" in caplog.text
    assert not (tmp_path / 'out').exists()


def test_flags_that_need_one_file_say_so(smollm2, tmp_path, caplog):
    a = _write(tmp_path / 'a.jsonl', _jsonl([MCQ]))
    assert main(['--custom-dataset-path', str(a), str(a), '--custom-dataset-meta-path', str(a),
                 '--hf-path', smollm2, '-w', str(tmp_path)]) == 2
    assert '--custom-dataset-meta-path goes with one --custom-dataset-path file' in caplog.text
    assert main(['--datasets', 'demo_gen', '--custom-dataset-data-type', 'qa', '--hf-path', smollm2,
                 '-w', str(tmp_path)]) == 2
    assert '--custom-dataset-data-type needs --custom-dataset-path FILE' in caplog.text


# ---------------------------------------------------------------------------- settings, no model
def test_dev_file_gives_the_examples_and_the_whole_file_is_tested(tmp_path):
    test = _write(tmp_path / 'test.jsonl', _jsonl([{**MCQ, 'question': f'T{i}'} for i in range(4)]))
    dev = _write(tmp_path / 'dev.csv', 'question,A,B,C,D,answer\n' + ''.join(f'D{i},a,b,c,d,B\n' for i in range(3)))
    cfg = custom_dataset_cfg(test, dev_path=dev)
    assert cfg['infer_cfg']['retriever']['fix_id_list'] == [0, 1, 2]  # 5 shots, or the dev file if shorter
    train, rows, _ = load_splits(to_plain(cfg), None)
    assert [r['question'] for r in train] == ['D0', 'D1', 'D2']
    assert [r['question'] for r in rows] == ['T0', 'T1', 'T2', 'T3']
    template = cfg['infer_cfg']['ice_template']
    assert template['ice_token'] == '</E>' and template['template']['begin'] == ['</E>']


def test_shots_from_the_file_leave_the_test_set(tmp_path):
    path = _write(tmp_path / 'qa.jsonl', _jsonl([{'question': f'Q{i}', 'answer': i} for i in range(5)]))
    _write(tmp_path / 'qa.jsonl.meta.json', json.dumps({'shots': 2, 'test_range': '[0:2]'}))
    train, rows, _ = load_splits(to_plain(custom_dataset_cfg(path)), None)
    assert [r['question'] for r in train] == ['Q0', 'Q1']
    assert rows == [{'question': 'Q2', 'answer': '2'}, {'question': 'Q3', 'answer': '3'}]  # values as text


def test_meta_postprocessor_gets_the_option_letters(tmp_path):
    path = _write(tmp_path / 'abc.csv', 'question,A,B,C,answer\nQ,a,b,c,C\n')
    meta = _write(tmp_path / 'settings.json', json.dumps(
        {'evaluator': 'AccEvaluator', 'pred_postprocessor': 'first_option_postprocess', 'abbr': 'abc3'}))
    cfg = custom_dataset_cfg(path, meta_path=meta)
    assert cfg['abbr'] == 'abc3' and cfg['options'] == ['A', 'B', 'C']
    assert cfg['eval_cfg'] == {'evaluator': {'type': 'AccEvaluator'},
                               'pred_postprocessor': {'type': 'first_option_postprocess', 'options': 'ABC'}}
    assert json.loads(json.dumps(to_plain(cfg)))['type'] == 'evalkit.datasets.custom.CustomDataset'


def test_option_similarity_reads_answers_as_opencompass_does(tmp_path):
    path = _write(tmp_path / 'w.jsonl', (EXAMPLES / 'world_mcq.jsonl').read_text())
    cfg = custom_dataset_cfg(path)
    evaluator = OptionSimAccEvaluator(**{k: v for k, v in cfg['eval_cfg']['evaluator'].items() if k != 'type'})
    row = evaluator.test_rows()[0]
    assert evaluator.parse('C', row) == 'C'
    assert evaluator.parse('The answer is B, I think', row) == 'B'
    assert evaluator.parse('It must be the pacific.', row) == 'C'   # the one option named
    assert evaluator.parse('Atlantik', row) == 'A'                  # nearest by edit distance
    assert edit_distance('kitten', 'sitting') == 3
    result = evaluator.score(['C', 'A. 366', 'oxygen', 'B'], ['C', 'A', 'B', 'D'])
    assert result['accuracy'] == pytest.approx(50.0)
    assert [d['correct'] for d in result['details']] == [True, True, False, False]


# ---------------------------------------------------------------------------- Python plugins
def _doc_files():
    """The files of the doc's walk-through: code blocks titled with a file name."""
    blocks = re.findall(r'```\w+ title="([^"]+)"\n(.*?)```', DOC.read_text(encoding='utf-8'), flags=re.S)
    return dict(blocks)


def _doc_commands():
    return [shlex.split(line)[1:] for line in DOC.read_text(encoding='utf-8').splitlines()
            if line.startswith('evalkit ')]


@pytest.fixture(scope='module')
def walkthrough(tmp_path_factory):
    folder = tmp_path_factory.mktemp('doc') / 'my_eval'
    files = _doc_files()
    assert {'mydata.jsonl', 'mydataset.py', 'eval_mydataset.py', 'eval_mydataset_imports.py'} <= set(files)
    for name, text in files.items():
        _write(folder / name, text)
    return folder


def _with_model(argv, smollm2, work_dir):
    argv = list(argv)
    argv[argv.index('--hf-path') + 1] = smollm2
    return argv + ['-w', str(work_dir)]


def _check_walkthrough_run(folder, run):
    spec = importlib.util.spec_from_file_location('doc_mydataset', folder / 'mydataset.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    preds = _predictions(run, 'mydataset')
    assert len(preds) == 3
    assert preds['2']['origin_prompt'] == [{'role': 'user', 'content': 'What is 6 times 2? Answer with a number.'}]
    assert [p['gold'] for p in preds.values()] == ['5', '5', '12']
    expected = 100 * sum(module.mydataset_postprocess(p['prediction']) == p['gold'] for p in preds.values()) / 3
    assert _results(run, 'mydataset')['accuracy'] == pytest.approx(expected)


def test_doc_walkthrough_with_imports_in_the_config(walkthrough, smollm2, tmp_path, monkeypatch):
    command = next(c for c in _doc_commands() if c[0] == 'eval_mydataset.py')
    monkeypatch.chdir(walkthrough)
    assert main(_with_model(command, smollm2, tmp_path) + ['--debug']) == 0
    _check_walkthrough_run(walkthrough, _only_run(tmp_path))


def test_doc_walkthrough_with_custom_imports_in_a_worker_process(walkthrough, smollm2, tmp_path, monkeypatch):
    command = next(c for c in _doc_commands() if c[0] == 'eval_mydataset_imports.py')
    monkeypatch.chdir(walkthrough)
    assert main(_with_model(command, smollm2, tmp_path)) == 0  # no --debug: a worker process infers
    run = _only_run(tmp_path)
    _check_walkthrough_run(walkthrough, run)
    task = json.loads((run / 'tmp' / 'infer_0.json').read_text())
    assert task['datasets'][0]['type'] == 'mydataset.MyDataset'
    assert task['datasets'][0]['eval_cfg']['pred_postprocessor']['type'] == 'mydataset.mydataset_postprocess'


def test_workers_import_the_config_folder_modules_from_anywhere(walkthrough, isolated_imports, tmp_path):
    """A worker started elsewhere imports the config's modules, plain and relative, by the names
    written into its task file."""
    _write(walkthrough / 'eval_relative.py', 'from .mydataset import MyDataset\n\ndatasets = [dict(type=MyDataset)]\n')
    names = [to_plain(collect(load_config(walkthrough / config), 'datasets')[0]['type'])
             for config in ('eval_mydataset.py', 'eval_relative.py')]
    assert names[0] == 'mydataset.MyDataset' and names[1].endswith('.mydataset.MyDataset')
    script = ('import sys, evalkit.tasks.infer; from evalkit.registry import resolve\n'  # as a worker starts
              'print([resolve(n).__name__ for n in sys.argv[1:]])')
    env = dict(os.environ, PYTHONPATH='')
    out = subprocess.run([sys.executable, '-c', script, *names], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "['MyDataset', 'MyDataset']", out.stderr
    env.pop(IMPORT_PATHS_ENV)
    out = subprocess.run([sys.executable, '-c', script, names[0]], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert "unknown type 'mydataset.MyDataset'" in out.stderr


def test_custom_imports_failures_name_the_module(walkthrough, isolated_imports):
    missing = _write(walkthrough / 'eval_missing.py', "custom_imports = dict(imports=['no_such_module'])\n")
    with pytest.raises(EvalkitError, match="custom_imports: cannot import 'no_such_module'"):
        load_config(missing)
    _write(walkthrough / 'broken_plugin.py', 'import json\n\nVALUE = undefined_name\n')
    broken = _write(walkthrough / 'eval_broken.py', "custom_imports = dict(imports=['broken_plugin'])\n")
    with pytest.raises(EvalkitError, match=re.escape(f"({walkthrough / 'broken_plugin.py'} line 3): NameError")):
        load_config(broken)
    tolerant = _write(walkthrough / 'eval_tolerant.py', "custom_imports = dict(imports=['broken_plugin'], "
                                                        'allow_failed_imports=True)\ndatasets = []\n')
    assert load_config(tolerant)['datasets'] == []


@pytest.fixture(scope='module')
def package_copy(tmp_path_factory, walkthrough):
    """A copy of the evalkit package, with the doc's plugin dropped into its datasets folder."""
    root = tmp_path_factory.mktemp('pkg')
    shutil.copytree(PROJECT / 'evalkit', root / 'evalkit', ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy(walkthrough / 'mydataset.py', root / 'evalkit' / 'datasets' / 'mydataset.py')
    shutil.copy(walkthrough / 'mydata.jsonl', root / 'mydata.jsonl')
    return root


def _python(root, script):
    env = dict(os.environ, PYTHONPATH=str(root))
    env.pop(IMPORT_PATHS_ENV, None)
    return subprocess.run([sys.executable, '-c', script], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)


def test_plugin_dropped_into_the_package_is_exported(package_copy):
    script = '''
import json, evalkit
from evalkit.datasets import MyDataset, MyDatasetEvaluator, mydataset_postprocess
from evalkit.registry import resolve
from evalkit.tasks.base import load_splits
assert resolve('MyDataset') is MyDataset and resolve('mydataset_postprocess') is mydataset_postprocess
cfg = dict(type='MyDataset', path='mydata.jsonl', reader_cfg=dict(input_columns=['question'], output_column='answer'))
train, test, _ = load_splits(cfg, data_root='/nowhere')  # load(path) is not given data_root
print(json.dumps([evalkit.__file__, test[0], MyDatasetEvaluator().score(['5', '4'], ['5', '5'])]))
'''
    out = _python(package_copy, script)
    assert out.returncode == 0, out.stderr
    where, row, score = json.loads(out.stdout)
    assert where == str(package_copy / 'evalkit' / '__init__.py')
    assert row == {'question': 'What is 2 plus 3?', 'answer': '5'}
    assert score == {'accuracy': 50.0}


def test_broken_module_in_the_package_names_its_file(package_copy):
    broken = package_copy / 'evalkit' / 'datasets' / 'broken.py'
    _write(broken, 'from datasets import Dataset\n\nROWS = undefined_name\n')
    try:
        out = _python(package_copy, 'import evalkit.datasets')
    finally:
        broken.unlink()
    assert out.returncode != 0
    assert f'{broken} line 3: cannot import this dataset module (NameError: ' in out.stderr
    assert f'fix it, or move it out of {broken.parent}' in out.stderr
