"""Subjective evaluation without a judge run: the parsers on a corpus of real judge outputs, the
judge prompts against OpenCompass's, the loaders on the real data, pairing and ordering, the
statistics of the summary, and multi-turn inference on a tiny model."""
import json
from collections import Counter
from pathlib import Path

import pytest

from evalkit.datasets.subjective import (AlignmentBenchDataset, AlpacaEvalDataset, MTBenchDataset,
                                         SubjectiveCmpDataset, alignbench_dataset_cfgs, alpaca_eval_dataset_cfgs,
                                         mtbench_dataset_cfgs)
from evalkit.openicl.judge import JUDGE_PARSERS, LMEvaluator, parse_score, prediction_values
from evalkit.partitioners import SubjectiveNaivePartitioner
from evalkit.summarizers.subjective import compare_stats, score_stats
from evalkit.tasks.subjective_eval import judgement_plan
from evalkit.utils.errors import EvalkitError
from project import load_tool

FIXTURES = Path(__file__).parent / 'fixtures'
CORPUS = json.loads((FIXTURES / 'judge_outputs.json').read_text(encoding='utf-8'))


def _value(result):
    return result['score'] if 'score' in result else result['verdict']


# ------------------------------------------------------------------ parsers

@pytest.mark.parametrize('case', CORPUS, ids=[f'{c["parser"]}-{i}' for i, c in enumerate(CORPUS)])
def test_parser_on_the_corpus(case):
    result = JUDGE_PARSERS[case['parser']](case['text'])
    assert _value(result) == case['expected']
    if case['expected'] is None:
        assert case['error'] in result['error']  # unparseable, and says why
    else:
        assert result['error'] is None
    if 'dimensions' in case:
        assert result['dimensions'] == case['dimensions']


def test_corpus_covers_every_format_and_real_judges():
    formats = Counter(JUDGE_PARSERS[c['parser']](c['text'])['format'] for c in CORPUS if c['expected'] is not None)
    assert {'brackets', 'labelled', 'overall', 'dict', 'arena', 'identifier'} <= set(formats)
    sources = Counter(c['source'].split(' (')[0] for c in CORPUS)
    assert sources['broken judge output'] >= 5
    assert any(s.startswith('SmolLM2') for s in sources)
    assert sum(c['expected'] is None for c in CORPUS if c['source'].startswith('SmolLM2')) >= 1


def test_ratings_out_of_the_configured_range_are_not_guessed():
    assert parse_score('Rating: [[0]]')['score'] is None
    assert parse_score('Rating: [[0]]', score_range=(0, 10))['score'] == 0
    assert parse_score('Rating: [[10.5]]')['error'] == 'rating 10.5 out of range 1-10'


# ------------------------------------------------------------------ prompts

def _render(dataset_cfg, row, answers):
    return LMEvaluator(**{k: v for k, v in dataset_cfg['eval_cfg']['evaluator'].items() if k != 'type'}) \
        .render(row, answers)


def test_alignbench_judge_prompts_match_opencompass(data_root):
    expected = json.loads((FIXTURES / 'opencompass_judge_prompts.json').read_text(encoding='utf-8'))['alignbench']
    rows = {r['others']['question_id']: r for r in AlignmentBenchDataset.load(data_root=str(data_root))}
    cfg = alignbench_dataset_cfgs()[0]
    for case in expected:
        assert _render(cfg, rows[case['question_id']], case['answers']) == case['rounds']


def test_mtbench_judge_prompts_match_opencompass(data_root):
    expected = json.loads((FIXTURES / 'opencompass_judge_prompts.json').read_text(encoding='utf-8'))['mtbench']
    for judge_type in ('single', 'pair'):
        rows = {r['others']['question_id']: r
                for r in MTBenchDataset.load(data_root=str(data_root), judge_type=judge_type)}
        cfg = mtbench_dataset_cfgs(judge_type=judge_type)[0]
        cases = [c for c in expected if c['judge_type'] == judge_type]
        assert cases
        for case in cases:
            assert _render(cfg, rows[case['question_id']], case['answers']) == case['rounds']


def test_alpaca_eval_prompt_is_the_evaluator_template_of_the_data(data_root):
    template = (data_root / 'alpaca_eval' / 'evaluators_configs' / 'alpaca_eval_clf_gpt4_turbo'
                / 'alpaca_eval_clf.txt').read_text(encoding='utf-8')
    row = next(iter(AlpacaEvalDataset.load(data_root=str(data_root))))
    system, user = _render(alpaca_eval_dataset_cfgs()[0], row, ['first {output_2} answer', 'second answer'])
    assert system['role'] == 'SYSTEM' and system['prompt'] in template
    head, tail = template.split('<|im_start|>user\n')[1].split('{instruction}')
    assert user['prompt'].startswith(head) and user['prompt'].endswith('## Best Model Identifier')
    assert f'"""{row["question"]}"""' in user['prompt']
    # Answers go in verbatim, in the order shown: a placeholder inside an answer stays as written.
    assert user['prompt'].index('"""first {output_2} answer"""') < user['prompt'].index('"""second answer"""')


def test_answer_placeholders_follow_opencompass_names():
    rounds = [{'round': 1, 'assistant': 'a1'}, {'round': 2, 'assistant': 'a2'}]
    values = prediction_values([rounds, 'b'])
    assert values['prediction'] == 'a2' and values['prediction_r1'] == 'a1' and values['prediction_r2'] == 'a2'
    assert values['prediction2'] == 'b' and values['prediction1_r1'] == 'b' and values['prediction2_r1'] == 'b'


# ------------------------------------------------------------------ loaders

def test_loaders_read_the_benchmarks_in_full(data_root):
    root = str(data_root)
    alignbench = list(AlignmentBenchDataset.load(data_root=root))
    assert Counter(r['capability'] for r in alignbench) == {
        '专业能力': 124, '角色扮演': 116, '数学计算': 112, '逻辑推理': 92, '文本写作': 75, '基本任务': 68,
        '中文理解': 58, '综合问答': 38}
    assert all(r['others']['reference'] in r['critiquellm_prefix'] for r in alignbench)

    mtbench = list(MTBenchDataset.load(data_root=root))
    assert len(mtbench) == 80 and all(len(r['dialogue']) == 4 for r in mtbench)
    with_reference = {r['capability'] for r in mtbench if r['others']['reference']}
    assert with_reference == {'math', 'reasoning', 'coding'}
    sizes = {t: len(MTBenchDataset.load(data_root=root, name=f'mtbench_{t}')) for t in (0.0, 0.1, 0.7)}
    assert sizes == {0.0: 40, 0.1: 20, 0.7: 20}

    alpaca = list(AlpacaEvalDataset.load(data_root=root))
    assert Counter(r['capability'] for r in alpaca) == {'selfinstruct': 252, 'oasst': 188, 'koala': 156,
                                                         'helpful_base': 129, 'vicuna': 80}


def test_generic_format_errors_name_the_file_and_item(tmp_path):
    cases = [('[{"question": "q", "capability": "c"}, {"capability": "c"}]', 'item 1: needs a "question"'),
             ('[{"dialogue": [{"role": "bot", "content": "x"}]}]', 'item 0: dialogue turn 0 needs "role"'),
             ('[{"question": "q", "others": "ref"}]', 'item 0: "others" must be an object'),
             ('{"question": "q"}', 'expected a JSON list'),
             ('[{"question": "q",]', 'not valid JSON')]
    for text, message in cases:
        file = tmp_path / 'bad.json'
        file.write_text(text, encoding='utf-8')
        with pytest.raises(EvalkitError, match='bad.json') as err:
            SubjectiveCmpDataset.load(str(file))
        assert message in str(err.value)


def test_generic_format_gives_each_user_turn_an_answer_slot(tmp_path):
    file = tmp_path / 'q.json'
    file.write_text(json.dumps([{'question': 'zero'},
                                {'dialogue': [{'role': 'user', 'content': 'one'}, {'role': 'user', 'content': 'two'}],
                                 'capability': 'chat'}]), encoding='utf-8')
    question, dialogue = SubjectiveCmpDataset.load(str(file))
    assert question['dialogue'] is None and question['capability'] == 'general'
    assert [t['role'] for t in dialogue['dialogue']] == ['user', 'assistant', 'user', 'assistant']
    assert dialogue['question'] == 'one\ntwo'


# ------------------------------------------------------------------ pairs, orders, statistics

def _m(abbr):
    return {'abbr': abbr}


def _abbrs(groups):
    return [[m['abbr'] for m in g] for g in groups]


def test_m2n_pairs_have_no_self_pairs_and_no_duplicates():
    partitioner = SubjectiveNaivePartitioner(judge_models=[_m('judge')])
    dataset = {'abbr': 'd', 'mode': 'm2n', 'base_models': [_m('a'), _m('b')]}
    jobs = partitioner.jobs([_m('a'), _m('b'), _m('c')], [dataset])
    assert [g for _, g in [(d, _abbrs([c])[0]) for d, c in jobs]] == [['a', 'b'], ['a', 'c'], ['b', 'c']]
    assert all(d['eval_cfg']['judge_settings']['infer_order'] == 'random' for d, _ in jobs)
    allpair = partitioner.jobs([_m('a'), _m('b'), _m('c')], [{'abbr': 'd', 'mode': 'allpair'}])
    assert _abbrs(c for _, c in allpair) == [['a', 'b'], ['a', 'c'], ['b', 'c']]
    score = partitioner.jobs([_m('a'), _m('b')], [{'abbr': 'd'}])
    assert _abbrs(c for _, c in score) == [['a'], ['b']]


def test_partitioner_splits_each_judge_over_the_workers():
    partitioner = SubjectiveNaivePartitioner(judge_models=[_m('j1'), _m('j2')])
    tasks = partitioner.partition([_m('a'), _m('b'), _m('c')], [{'abbr': 'd'}], num_workers=2)
    assert [(t['model']['abbr'], len(t['candidates'])) for t in tasks] == [('j1', 2), ('j1', 1), ('j2', 2), ('j2', 1)]


@pytest.mark.parametrize('dataset, models, message', [
    ({'abbr': 'd', 'mode': 'm2n'}, ['a', 'b'], 'needs base_models'),
    ({'abbr': 'd', 'mode': 'allpair'}, ['a'], 'at least two'),
    ({'abbr': 'd', 'mode': 'pairs'}, ['a'], "mode 'pairs'"),
    ({'abbr': 'd', 'mode': 'm2n', 'base_models': [{'abbr': 'a'}]}, ['a'], 'no pair of two different models'),
    ({'abbr': 'd', 'mode': 'allpair', 'infer_order': 'twice'}, ['a', 'b'], "infer_order 'twice'"),
])
def test_partitioner_errors_name_the_dataset(dataset, models, message):
    with pytest.raises(EvalkitError, match=message):
        SubjectiveNaivePartitioner(judge_models=[_m('j')]).partition([_m(a) for a in models], [dataset])


def test_no_judge_is_an_error():
    with pytest.raises(EvalkitError, match='judge_models'):
        SubjectiveNaivePartitioner().partition([_m('a')], [{'abbr': 'd'}])


def test_double_order_shows_every_question_both_ways_and_random_is_seeded():
    double = judgement_plan(3, 2, 'double', 0)
    assert sorted(double) == sorted([(i, (0, 1)) for i in range(3)] + [(i, (1, 0)) for i in range(3)])
    first = judgement_plan(200, 2, 'random', 666)
    assert first == judgement_plan(200, 2, 'random', 666) != judgement_plan(200, 2, 'random', 1)
    assert 60 < sum(order == (1, 0) for _, order in first) < 140
    assert judgement_plan(2, 1, None, 0) == [(0, (0,)), (1, (0,))]


def _judged(row, shown, verdict):
    winner = {'A': shown[0], 'B': shown[1], 'C': 'tie'}.get(verdict)
    return {'row': row, 'shown': shown, 'verdict': verdict, 'winner': winner, 'capability': 'c'}


def test_win_rate_and_position_bias():
    details = [_judged(0, ['base', 'model'], 'A'), _judged(0, ['model', 'base'], 'A'),   # same position: bias
               _judged(1, ['base', 'model'], 'B'), _judged(1, ['model', 'base'], 'A'),   # model both times
               _judged(2, ['base', 'model'], 'C'), _judged(2, ['model', 'base'], 'B'),   # a tie: not counted
               _judged(3, ['base', 'model'], None), _judged(3, ['model', 'base'], 'B')]  # unparsed
    stats = compare_stats(details, 'model', 'base')
    assert (stats['wins'], stats['ties'], stats['losses'], stats['unparsed']) == (3, 1, 3, 1)
    assert stats['win_rate'] == pytest.approx(100 * 3.5 / 7)
    assert stats['position_bias_rate'] == pytest.approx(50.0) and stats['position_bias_questions'] == 2
    assert 'position_bias_rate' not in compare_stats(details[::2], 'model', 'base')


def test_score_stats_count_the_unparseable():
    stats = score_stats([{'score': 8.0}, {'score': None}, {'score': 5.0}])
    assert stats == {'score': 6.5, 'judged': 2, 'unparsed': 1, 'num_samples': 3}


# ------------------------------------------------------------------ multi-turn inference

def test_chat_inferencer_answers_each_turn_after_the_previous_answers(tiny_model_dir):
    from evalkit.models import HuggingFacewithChatTemplate
    from evalkit.openicl import ChatInferencer, PromptTemplate
    model = HuggingFacewithChatTemplate(path=str(tiny_model_dir), max_seq_len=512, batch_size=1)
    rows = [{'dialogue': [{'role': 'user', 'content': 'Name a colour.'}, {'role': 'assistant', 'content': ''},
                          {'role': 'user', 'content': 'And another one?'}, {'role': 'assistant', 'content': ''}]},
            {'question': 'Say hello.'}]
    inferencer = ChatInferencer(max_out_len=6)
    requests = inferencer.build(model, PromptTemplate(dict(round=[dict(role='HUMAN', prompt='{question}')])), None,
                                [[], []], [], rows, None)
    records = inferencer.infer(model, requests)
    first, second = (r['prediction'] for r in records)
    assert [r['user'] for r in first] == ['Name a colour.', 'And another one?']
    assert [r['user'] for r in second] == ['Say hello.']
    # Each turn was generated from the dialogue so far, the model's own earlier answer included.
    answer_1 = model.generate([[{'role': 'user', 'content': 'Name a colour.'}]], 6)[0]
    answer_2 = model.generate([[{'role': 'user', 'content': 'Name a colour.'},
                                {'role': 'assistant', 'content': answer_1},
                                {'role': 'user', 'content': 'And another one?'}]], 6)[0]
    assert [r['assistant'] for r in first] == [answer_1, answer_2]
    assert records[0]['origin_prompt'][1]['content'] == ''  # the request itself is left as it was


# ------------------------------------------------------------------ AlignBench conversion

def test_converted_alignbench_reads_as_the_release(data_root, tmp_path):
    tool = load_tool('convert_alignmentbench')
    release = data_root / 'alignbench' / 'data' / 'data_v1.1_release.jsonl'
    out = tmp_path / 'alignment_bench_v1_1.json'
    assert tool.main(['--mode', 'json', '--jsonl', str(release), '--json', str(out)]) == 0
    items = json.loads(out.read_text(encoding='utf-8'))
    assert len(items) == 683 and set(items[0]) == {'question', 'capability', 'others'}
    converted = list(AlignmentBenchDataset.load(path=str(tmp_path), alignment_bench_config_path=str(
        data_root / 'alignbench' / 'config')))
    assert converted == list(AlignmentBenchDataset.load(data_root=str(data_root)))
    assert tool.main(['--mode', 'csv', '--exp-folder', str(tmp_path / 'no_run')]) == 2


def test_judge_settings_never_make_predictions_stale_but_new_judgements():
    from evalkit.partitioners.subjective import with_judge_settings
    from evalkit.tasks.base import inference_fingerprint
    from evalkit.tasks.subjective_eval import judgement_fingerprint
    model, judge = {'abbr': 'm', 'path': 'x'}, {'abbr': 'j', 'path': 'y', 'max_out_len': 256}
    dataset = alpaca_eval_dataset_cfgs()[0]
    settled = with_judge_settings(dataset)
    assert 'mode' not in settled and settled['eval_cfg']['judge_settings']['mode'] == 'm2n'
    other_order = with_judge_settings(dataset, infer_order='double')
    assert inference_fingerprint(model, settled) == inference_fingerprint(model, other_order)
    base = judgement_fingerprint(judge, settled, [model])
    assert judgement_fingerprint(judge, other_order, [model]) != base
    assert judgement_fingerprint(dict(judge, max_out_len=512), settled, [model]) != base
    assert judgement_fingerprint(judge, with_judge_settings(dataset, summarizer={'groups_mean': 'x'}),
                                 [model]) == base
