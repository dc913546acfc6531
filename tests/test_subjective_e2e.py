"""Subjective evaluation end to end: SmolLM2 answers a few questions of AlignBench, MT-Bench (two
turns), the generic JSON format (a question and a two-turn dialogue) and AlpacaEval, and SmolLM2
judges them, through the CLI as a user runs it: with the local backend in one run (score mode, and
compare mode against AlpacaEval's reference outputs in both orders), and through a real
OpenAI-compatible server. Answers and judgements are cut short: the runs test the machinery, not
SmolLM2's judgement."""
import csv
import json
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.openicl.judge import parse_alpaca_verdict, parse_score
from evalkit.summarizers.subjective import compare_stats, score_stats
from project import only_run

JUDGE = 'smollm2'
QUESTIONS = [
    {'question': 'Name the largest planet of the solar system.', 'capability': 'knowledge',
     'others': {'reference': 'Jupiter is the largest planet of the solar system.'}},
    {'dialogue': [{'role': 'user', 'content': 'Suggest a name for a cat.'}, {'role': 'assistant', 'content': ''},
                  {'role': 'user', 'content': 'Why that name?'}, {'role': 'assistant', 'content': ''}],
     'capability': 'chat', 'others': {}},
]

LOCAL_MODEL = '''
from evalkit.models import HuggingFacewithChatTemplate
judge_models = [dict(type=HuggingFacewithChatTemplate, abbr={judge!r}, path={gguf!r}, max_seq_len=4096,
                     max_out_len=6, batch_size=4, run_cfg=dict(num_gpus=0))]
'''
FIRST = '''
from evalkit.datasets.subjective import (alignbench_dataset_cfgs, alpaca_eval_dataset_cfgs, mtbench_dataset_cfgs,
                                         subjective_dataset_cfgs)
def _first(cfgs, n=2, **settings):
    return [dict(d, reader_cfg=dict(d['reader_cfg'], test_range='[0:%d]' % n), **settings) for d in cfgs]
'''
RUN = '''
models = [dict(judge_models[0])]
alignbench_datasets = _first(alignbench_dataset_cfgs(), n=1)
mtbench_datasets = _first(mtbench_dataset_cfgs(temperatures=(0.0,), max_out_len=6), n=1)
seed_datasets = subjective_dataset_cfgs({questions!r}, abbr='seed')
alpaca_datasets = _first(alpaca_eval_dataset_cfgs(infer_order='double'), n=1)
'''


def _run(tmp, body, data_root, *extra):
    """Write the config, run it with the CLI, return the run folder."""
    questions = tmp / 'questions.json'
    questions.write_text(json.dumps(QUESTIONS), encoding='utf-8')
    config = tmp / 'config.py'
    config.write_text(body.format(questions=str(questions)), encoding='utf-8')
    work = tmp / 'outputs'
    assert main([str(config), '--data-root', str(data_root), '-w', str(work), '--debug', *extra]) == 0
    return only_run(work)


def _results(run, folder, dataset):
    return json.loads((run / 'results' / folder / f'{dataset}.json').read_text(encoding='utf-8'))


def _predictions(run, model, dataset):
    data = json.loads((run / 'predictions' / model / f'{dataset}.json').read_text(encoding='utf-8'))
    return [data[str(i)]['prediction'] for i in range(len(data))]


def _summary(run):
    with open(next((run / 'summary').glob('summary_*.csv')), encoding='utf-8') as f:
        return list(csv.DictReader(f))


def _local(smollm2):
    return LOCAL_MODEL.format(judge=JUDGE, gguf=smollm2) + FIRST


def _user_text(prompt):
    return next(m['content'] for m in prompt if m['role'] == 'user')


# ------------------------------------------------------------------ the local backend

@pytest.fixture(scope='module')
def local_run(smollm2, data_root, tmp_path_factory):
    return _run(tmp_path_factory.mktemp('local'), _local(smollm2) + RUN, data_root)


SCORED = {'alignment_bench_v1_1': 1, 'mtbench_0.0': 1, 'seed': 2}
PAIR = f'gpt4_1106_preview_{JUDGE}_judged-by--{JUDGE}'


def test_score_mode_judges_every_answer_and_keeps_the_raw_judgement(local_run):
    for dataset, rows in SCORED.items():
        results = _results(local_run, f'{JUDGE}_judged-by--{JUDGE}', dataset)
        answers = _predictions(local_run, JUDGE, dataset)
        assert results['models'] == [JUDGE] and len(results['details']) == len(answers) == rows
        for detail, answer in zip(results['details'], answers):
            parsed = parse_score(detail['judgement'])
            assert (detail['score'], detail['error']) == (parsed['score'], parsed['error'])
            last = answer[-1]['assistant'] if isinstance(answer, list) else answer
            assert last in _user_text(detail['origin_prompt'])  # the judge saw this model's answer
        assert results['unparsed'] == sum(d['score'] is None for d in results['details'])


def test_two_turns_are_answered_in_turn_and_judged_together(local_run, data_root):
    references = {json.loads(line)['question_id']: json.loads(line)['choices'][0]['turns']
                  for line in (data_root / 'mt_bench' / 'mt_bench' / 'reference_answer' / 'gpt-4.jsonl').open()}
    mtbench = zip(_predictions(local_run, JUDGE, 'mtbench_0.0'),
                  _results(local_run, f'{JUDGE}_judged-by--{JUDGE}', 'mtbench_0.0')['details'])
    for rounds, detail in mtbench:
        assert [r['round'] for r in rounds] == [1, 2] and all(r['assistant'] for r in rounds)
        prompt = _user_text(detail['origin_prompt'])
        # FastChat's two-turn prompt with GPT-4's reference answers (the first question is reasoning).
        assert prompt.startswith('<|The Start of Reference Answer|>') and references[101][1] in prompt
        conversation = prompt.split("<|The Start of Assistant A's Conversation with User|>")[1]
        assert conversation.index(rounds[0]['assistant']) < conversation.index(rounds[1]['user']) \
            < conversation.rindex(rounds[1]['assistant'])
    question, dialogue = _predictions(local_run, JUDGE, 'seed')
    assert [r['user'] for r in question] == [QUESTIONS[0]['question']]
    assert [r['user'] for r in dialogue] == ['Suggest a name for a cat.', 'Why that name?']


def test_score_summary_counts_ratings_and_unparseable(local_run):
    rows = _summary(local_run)
    for dataset in SCORED:
        details = _results(local_run, f'{JUDGE}_judged-by--{JUDGE}', dataset)['details']
        mine = {(r['capability'], r['metric']): r['value'] for r in rows if r['dataset'] == dataset}
        assert mine[('unparsed', 'count')] == str(sum(d['score'] is None for d in details))
        overall = score_stats(details)['score']
        assert mine[('overall', 'score')] == ('-' if overall is None else f'{overall:.2f}')
    groups = {r['capability'] for r in rows if r['dataset'] == 'alignment_bench_v1_1'}
    assert {'专业能力', '中文推理', '中文语言', '总分', 'overall'} <= groups
    assert (local_run / 'summary' / f'summary_{local_run.name}.md').read_text(encoding='utf-8').startswith('## ')


def test_double_order_judges_each_question_in_both_orders(local_run, data_root):
    results = _results(local_run, PAIR, 'alpaca_eval')
    assert results['models'] == ['gpt4_1106_preview', JUDGE] and results['infer_order'] == 'double'
    assert sorted(tuple(d['shown']) for d in results['details']) == [('gpt4_1106_preview', JUDGE),
                                                                      (JUDGE, 'gpt4_1106_preview')]
    # The reference model's answer is its output in the data, shown in the order recorded.
    outputs = json.loads((data_root / 'alpaca_eval' / 'results' / 'gpt4_1106_preview' / 'model_outputs.json')
                         .read_text(encoding='utf-8'))
    answer = _predictions(local_run, JUDGE, 'alpaca_eval')[0]
    for d in results['details']:
        assert d['verdict'] == parse_alpaca_verdict(d['judgement'])['verdict']
        assert d['winner'] == {'A': d['shown'][0], 'B': d['shown'][1]}.get(d['verdict'])
        texts = {'gpt4_1106_preview': f'"""{outputs[0]["output"]}"""', JUDGE: f'"""{answer}"""'}
        prompt = _user_text(d['origin_prompt'])
        assert prompt.index(texts[d['shown'][0]]) < prompt.index(texts[d['shown'][1]])


def test_compare_summary_gives_win_tie_loss_and_position_bias(local_run):
    stats = compare_stats(_results(local_run, PAIR, 'alpaca_eval')['details'], JUDGE, 'gpt4_1106_preview')
    mine = {r['metric']: r['value'] for r in _summary(local_run)
            if r['dataset'] == 'alpaca_eval' and r['capability'] == 'overall'}
    assert {k: mine[k] for k in ('wins', 'ties', 'losses', 'unparsed')} == \
        {k: str(stats[k]) for k in ('wins', 'ties', 'losses', 'unparsed')}
    bias = stats['position_bias_rate']
    assert mine['position_bias_rate'] == ('-' if bias is None else f'{bias:.2f}')


def test_alignbench_submission_holds_the_answers_in_order(local_run):
    import subprocess
    import sys
    tool = Path(__file__).parents[1] / 'tools' / 'convert_alignmentbench.py'
    subprocess.run([sys.executable, str(tool), '--mode', 'csv', '--exp-folder', str(local_run)], check=True,
                   capture_output=True)
    with open(local_run / 'submission' / f'{JUDGE}_submission.csv', encoding='utf-8-sig', newline='') as f:
        rows = list(csv.reader(f))
    assert rows == [[answer] for answer in _predictions(local_run, JUDGE, 'alignment_bench_v1_1')]


def test_rerun_with_r_judges_nothing_again(local_run, data_root):
    files = sorted((local_run / 'results').rglob('*.json'))
    before = {f: f.stat().st_mtime_ns for f in files}
    config = local_run.parent.parent / 'config.py'
    assert main([str(config), '--data-root', str(data_root), '-w', str(local_run.parent), '-r', '--debug']) == 0
    assert {f: f.stat().st_mtime_ns for f in files} == before


def test_a_lost_judgement_is_made_again_by_a_worker_process(local_run, data_root):
    """Without --debug the judge runs as ``python -m evalkit.tasks.subjective_eval TASK.json``."""
    path = local_run / 'results' / f'{JUDGE}_judged-by--{JUDGE}' / 'seed.json'
    before = json.loads(path.read_text(encoding='utf-8'))
    path.unlink()
    config = local_run.parent.parent / 'config.py'
    assert main([str(config), '--data-root', str(data_root), '-w', str(local_run.parent), '-r', '-m', 'eval']) == 0
    after = json.loads(path.read_text(encoding='utf-8'))
    assert after['fingerprint'] == before['fingerprint']
    assert [d['origin_prompt'] for d in after['details']] == [d['origin_prompt'] for d in before['details']]
    logs = list((local_run / 'logs' / 'subjective_eval').rglob('*.out'))
    assert any('seed' in log.read_text(encoding='utf-8') for log in logs)


# ------------------------------------------------------------------ through the API server

API_MODEL = '''
from evalkit.models import OpenAISDK
judge_models = [dict(type=OpenAISDK, abbr={judge!r}, path={model!r}, openai_api_base={base!r},
                     key_env={key_env!r}, max_out_len=16, batch_size=2, max_concurrency=2)]
models = [dict(judge_models[0])]
'''
API_DATASETS = '''
mtbench_datasets = _first(mtbench_dataset_cfgs(temperatures=(0.7,), max_out_len=16), n=1)
'''


def test_api_model_answers_and_judges(llama_server, data_root, tmp_path, monkeypatch):
    monkeypatch.setenv('EVALKIT_CACHE_DIR', str(tmp_path / 'cache'))
    body = API_MODEL.format(judge='smollm2-api', model=llama_server.model, base=llama_server.base_url,
                            key_env=llama_server.key_env) + FIRST + API_DATASETS
    run = _run(tmp_path, body, data_root)
    details = _results(run, 'smollm2-api_judged-by--smollm2-api', 'mtbench_0.7')['details']
    (rounds,) = _predictions(run, 'smollm2-api', 'mtbench_0.7')
    assert len(details) == 1 and [r['round'] for r in rounds] == [1, 2] and all(r['assistant'] for r in rounds)
    prompt = _user_text(details[0]['origin_prompt'])
    assert prompt.index(rounds[0]['assistant']) < prompt.rindex(rounds[1]['assistant'])
    assert details[0]['score'] == parse_score(details[0]['judgement'])['score']
    # MT-Bench's writing questions are answered at FastChat's temperature; the judge stays greedy.
    requests = [json.loads(p.read_text(encoding='utf-8'))['request'] for p in (tmp_path / 'cache').rglob('*.json')]
    judged = [r for r in requests if 'impartial judge' in r['messages'][0]['content']]
    answered = [r for r in requests if r not in judged]
    assert len(judged) == 1 and len(answered) == 2
    assert {r['temperature'] for r in answered} == {0.7} and judged[0]['temperature'] == 0.0
    second_turn = next(r for r in answered if len(r['messages']) == 3)
    assert second_turn['messages'][1] == {'role': 'assistant', 'content': rounds[0]['assistant']}
