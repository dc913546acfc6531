"""Evaluators: metrics with standard errors, on real-looking outputs, real benchmark answers
(GSM8K, HumanEval), the sandbox, and outputs of the real SmolLM2 model."""
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from evalkit.openicl import (AccEvaluator, BaseEvaluator, BleuEvaluator, EditDistanceEvaluator,
                             ExactMatchEvaluator, NumericMatchEvaluator, PassAtKEvaluator, RougeEvaluator,
                             TokenF1Evaluator, code_block_postprocess, first_option_postprocess,
                             last_number_postprocess)
from evalkit.openicl.evaluators.pass_at_k import pass_at_k
from evalkit.registry import build
from evalkit.utils.errors import EvalkitError
from evalkit.utils.sandbox import run_program, run_programs

EVALUATORS = ['AccEvaluator', 'ExactMatchEvaluator', 'TokenF1Evaluator', 'BleuEvaluator', 'RougeEvaluator',
              'EditDistanceEvaluator', 'NumericMatchEvaluator', 'PassAtKEvaluator']


def _stderr(values):
    """Standard error of the mean written out longhand, to check the evaluator's numpy version."""
    n = len(values)
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) / math.sqrt(n)


# ---------------------------------------------------------------------------- the contract
def test_accuracy_mean_stderr_and_details():
    preds = ['B', ' C\n', 'A', 'D', None, 'B', 'b', 'C', 'C', 'A']
    golds = ['B', 'C', 'A', 'A', 'A', 'B', 'B', 'C', 'D', 'A']
    result = AccEvaluator().score(preds, golds)
    correct = [1, 1, 1, 0, 0, 1, 0, 1, 0, 1]
    assert result['accuracy'] == pytest.approx(100 * sum(correct) / len(correct))
    assert result['accuracy_stderr'] == pytest.approx(100 * _stderr(correct))
    assert result['num_samples'] == 10
    assert 'accuracy_ci95' not in result
    assert [d['correct'] for d in result['details']] == [bool(c) for c in correct]
    assert result['details'][1] == {'pred': ' C\n', 'gold': 'C', 'accuracy': 100.0, 'correct': True}
    json.dumps(result)   # written as is into the results file
    # The main metric comes first: the summarizer shows the first number of a result.
    assert next(iter(result)) == 'accuracy'


def test_input_problems_come_back_as_errors():
    for name in EVALUATORS:
        evaluator = build({'type': name})
        assert 'predictions but' in evaluator.score(['1', '2'], ['1'])['error']
        assert evaluator.score([], [])['error'] == 'no rows to score'
    assert 'has no number' in NumericMatchEvaluator().score(['5'], ['five'])['error']
    assert 'not a code problem' in PassAtKEvaluator().score(['pass'], [{'prompt': 'x'}])['error']
    assert 'needs at least 5 completions' in PassAtKEvaluator(k=(1, 5)).score([['a', 'b']], ['pass'])['error']
    with pytest.raises(EvalkitError, match='bootstrap'):
        AccEvaluator(bootstrap=-1)
    with pytest.raises(EvalkitError, match='positive integers'):
        PassAtKEvaluator(k=(0,))


def test_every_evaluator_takes_bootstrap_and_seed_from_a_config():
    for name in EVALUATORS:
        evaluator = build({'type': name}, bootstrap=20, seed=3)
        assert (evaluator.bootstrap, evaluator.seed) == (20, 3)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    rng = np.random.default_rng(1)
    golds = [str(x) for x in rng.integers(0, 4, 200)]
    preds = [g if keep else 'x' for g, keep in zip(golds, rng.random(200) < 0.6)]
    one = AccEvaluator(bootstrap=500).score(preds, golds)
    low, high = one['accuracy_ci95']
    assert low < one['accuracy'] < high
    # A percentile bootstrap of a mean spans about +-1.96 standard errors.
    assert (high - low) / (2 * 1.96 * one['accuracy_stderr']) == pytest.approx(1, abs=0.2)
    assert AccEvaluator(bootstrap=500).score(preds, golds)['accuracy_ci95'] == one['accuracy_ci95']
    assert AccEvaluator(bootstrap=500, seed=7).score(preds, golds)['accuracy_ci95'] != one['accuracy_ci95']


def test_single_sample_has_no_stderr():
    result = ExactMatchEvaluator(bootstrap=10).score(['Paris'], ['paris'])
    assert result['exact_match'] == 100.0 and result['exact_match_stderr'] is None
    assert result['exact_match_ci95'] == [100.0, 100.0]


def test_own_evaluator_defines_only_sample_scores():
    class LengthRatio(BaseEvaluator):
        raw_metrics = ('length_ratio',)

        def sample_scores(self, predictions, references):
            return {'length_ratio': [len(p) / len(r) for p, r in zip(predictions, references)],
                    'longer': [float(len(p) > len(r)) for p, r in zip(predictions, references)]}

    result = LengthRatio().score(['abcd', 'ab', 'abc'], ['ab', 'ab', 'abcdef'])
    assert result['length_ratio'] == pytest.approx((2 + 1 + 0.5) / 3)
    assert result['length_ratio_stderr'] == pytest.approx(_stderr([2, 1, 0.5]))
    assert result['longer'] == pytest.approx(100 / 3)
    assert result['details'][0] == {'pred': 'abcd', 'gold': 'ab', 'length_ratio': 2.0, 'longer': 100.0}


# ---------------------------------------------------------------------------- text metrics
def test_exact_match_normalises_like_squad_and_chinese():
    preds = ['The Eiffel Tower.', 'eiffel  tower', '“北京大学”。', '北京 大学', 'ＡＢＣ', 'Tower', '', 'an apple']
    golds = ['Eiffel Tower', 'the eiffel tower', '北京大学', '北京大学', 'abc', 'Eiffel Tower', '',
             ['a pear', 'apple']]
    result = ExactMatchEvaluator().score(preds, golds)
    assert [d['correct'] for d in result['details']] == [True, True, True, True, True, False, True, True]


def test_token_f1_on_english_chinese_and_lists():
    result = TokenF1Evaluator().score(
        ['the Eiffel Tower in Paris', '北京大学', 'Paris', '', 'in 1889, I think'],
        ['Eiffel Tower', '北京', ['London', 'paris'], 'something', '1889'])
    f1 = [d['f1'] for d in result['details']]
    assert f1[0] == pytest.approx(100 * 2 * (2 / 4) * 1 / (2 / 4 + 1))   # 2 of 4 tokens, all of gold
    assert f1[1] == pytest.approx(100 * 2 * 0.5 * 1 / 1.5)              # characters: 2 of 4
    assert f1[2] == 100.0 and f1[3] == 0.0
    assert f1[4] == pytest.approx(100 * 2 * 0.25 * 1 / 1.25)
    assert result['f1'] == pytest.approx(sum(f1) / 5)
    assert result['exact_match'] == 20.0


def test_bleu_is_sacrebleu_corpus_bleu():
    import sacrebleu
    preds = ['The cat sat on the mat.', 'A quick brown fox jumps.', 'Hello there, general Kenobi!', '']
    golds = ['The cat is sitting on the mat.', 'The quick brown fox jumps over the dog.',
             'Hello there, general Kenobi.', 'Nothing came out.']
    result = BleuEvaluator().score(preds, golds)
    assert result['bleu'] == pytest.approx(sacrebleu.corpus_bleu(preds, [golds]).score)
    assert result['bleu_stderr'] is None and 'bleu_ci95' not in result
    boot = BleuEvaluator(bootstrap=200).score(preds, golds)
    assert boot['bleu'] == result['bleu'] and boot['bleu_stderr'] > 0
    assert boot['bleu_ci95'][0] <= boot['bleu'] <= boot['bleu_ci95'][1]
    # Several references per sample.
    multi = BleuEvaluator().score(preds[:2], [[golds[0], 'The cat sat on a mat.'], [golds[1]]])
    assert multi['bleu'] == pytest.approx(sacrebleu.corpus_bleu(
        preds[:2], [[golds[0], golds[1]], ['The cat sat on a mat.', None]]).score)


def test_bleu_tokenizes_chinese():
    import sacrebleu
    preds = ['今天天气很好，我们去公园散步。', '他喜欢读书。']
    golds = ['今天天气很好，我们去公园走走。', '他很喜欢看书。']
    result = BleuEvaluator().score(preds, golds)
    assert result['bleu'] == pytest.approx(sacrebleu.corpus_bleu(preds, [golds], tokenize='zh').score)
    assert result['bleu'] > sacrebleu.corpus_bleu(preds, [golds], tokenize='13a').score


def test_rouge_matches_rouge_score_and_reads_chinese():
    from rouge_score import rouge_scorer
    preds = ['the cat was found under the bed', 'police killed the gunman']
    golds = ['the cat was under the bed', 'the gunman was shot dead by police']
    result = RougeEvaluator().score(preds, golds)
    scorer = rouge_scorer.RougeScorer(['rouge1', 'rouge2', 'rougeL'])
    for name in ('rouge1', 'rouge2', 'rougeL'):
        expected = [scorer.score(g, p)[name].fmeasure for p, g in zip(preds, golds)]
        assert result[name] == pytest.approx(100 * np.mean(expected))
        assert result[f'{name}_stderr'] == pytest.approx(100 * _stderr(expected))
    chinese = RougeEvaluator().score(['我们明天去北京旅游', '完全无关的内容'], ['我们 明天 去 上海 旅游', '今天下雨了'])
    assert scorer.score('我们明天去上海旅游', '我们明天去北京旅游')['rouge1'].fmeasure == 0   # its own tokenizer
    assert 0 < chinese['details'][0]['rouge1'] < 100
    assert chinese['details'][1]['rouge1'] == 0


def test_edit_similarity():
    result = EditDistanceEvaluator().score(['kitten', '  same ', '', '北京大学'],
                                           ['sitting', 'same', '', ['北京', '大学']])
    sims = [d['edit_similarity'] for d in result['details']]
    assert sims == pytest.approx([100 * (1 - 3 / 7), 100, 100, 50])


# ---------------------------------------------------------------------------- numbers
def test_numeric_match_on_free_text():
    preds = ['She has 1,234.50 dollars left.', 'The answer is \\boxed{12}. Check: 3*4=12', 'So x = -3',
             'About 75%', '3/4', 'I cannot tell', '', None, 'It is 71.9999999999 then', 'The answer is 0.']
    golds = ['#### 1,234.5', '12', -3, '75', 0.75, '5', '0', 7, 72, 0]
    result = NumericMatchEvaluator().score(preds, golds)
    correct = [True, True, True, True, True, False, False, False, True, True]
    assert [d['correct'] for d in result['details']] == correct
    assert result['details'][0]['pred_number'] == 1234.5
    assert result['details'][5]['pred_number'] is None


def test_numeric_match_reads_every_gsm8k_answer(data_root):
    rows = [json.loads(line) for line in (data_root / 'gsm8k' / 'test.jsonl').read_text().splitlines()]
    answers = [r['answer'] for r in rows]
    golds = [float(a.split('####')[1].strip().replace(',', '')) for a in answers]
    # Each gold solution, read as a prediction, carries its own number.
    result = NumericMatchEvaluator().score(answers, golds)
    assert result['num_samples'] == len(rows) == 1319
    assert result['accuracy'] == 100.0 and result['accuracy_stderr'] == 0.0
    # A solution scored against the next problem's answer is right only when the numbers agree.
    shifted = NumericMatchEvaluator().score(answers, answers[1:] + answers[:1])
    agree = [a == b for a, b in zip(golds, golds[1:] + golds[:1])]
    assert [d['correct'] for d in shifted['details']] == agree
    assert last_number_postprocess(answers[0]) == format(golds[0], 'g')


# ---------------------------------------------------------------------------- code
def test_sandbox_statuses():
    passed, failed, looping, hog = run_programs([
        'assert sorted([3, 1, 2]) == [1, 2, 3]\nprint("fine")',
        'def f(x):\n    return x + 1\nassert f(1) == 3, "f(1) is wrong"',
        'while True:\n    pass',
        'data = bytearray(2 * 1024 ** 3)',
    ], timeout=1.5, memory_mb=256, workers=2)
    assert passed.passed and passed.status == 'passed' and passed.output == 'fine\n'
    assert failed.status == 'failed' and failed.error == 'AssertionError: f(1) is wrong'
    assert looping.status == 'timeout' and not looping.passed and 1.5 <= looping.seconds < 10
    assert hog.status == 'failed' and hog.error == 'MemoryError'


def test_sandbox_isolation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_program('import os, sys\nprint(sys.flags.isolated)\nprint(os.getcwd())\n'
                         'open("left.txt", "w").write("x")\ninput()', timeout=5)
    isolated, folder = result.output.splitlines()[:2]
    assert isolated == '1'
    assert folder != str(tmp_path) and not os.path.exists(folder)   # a fresh folder, removed after
    assert not (tmp_path / 'left.txt').exists()
    assert result.status == 'failed' and result.error.startswith('EOFError')   # no stdin
    flood = run_program('while True:\n    print("x" * 10000)', timeout=5)
    assert flood.status == 'failed' and 'output limit' in flood.error and len(flood.output) <= 2000


def test_pass_at_k_estimator():
    assert pass_at_k(1, 1, 1) == 1.0 and pass_at_k(1, 0, 1) == 0.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - math.comb(7, 5) / math.comb(10, 5))
    assert pass_at_k(5, 4, 2) == 1.0


def test_pass_at_k_on_real_humaneval_problems(data_root):
    rows = [json.loads(line) for line in
            (data_root / 'humaneval' / 'human-eval-v2-20210705.jsonl').read_text().splitlines()][:8]
    refs = [{'prompt': r['prompt'], 'test': r['test'], 'entry_point': r['entry_point']} for r in rows]
    wrong = '    return None\n'
    preds = [[r['canonical_solution'], wrong] for r in rows]
    result = PassAtKEvaluator(k=(1, 2), timeout=10).score(preds, refs)
    assert result['pass@1'] == 50.0 and result['pass@2'] == 100.0 and result['pass@1_stderr'] == 0.0
    assert all(d['status'] == ['passed', 'failed'] and d['passed'] == 1 for d in result['details'])
    assert result['details'][0]['error'][1].startswith('AssertionError')
    looping = PassAtKEvaluator(timeout=1).score(['    while True:\n        pass\n'], refs[:1])
    assert looping['pass@1'] == 0.0 and looping['details'][0]['status'] == ['timeout']


# ---------------------------------------------------------------------------- real model outputs
ARITHMETIC = 'What is 23 + 48? Answer with the number only.'
CHOICE = ('Which planet is known as the Red Planet?\nA. Venus\nB. Mars\nC. Jupiter\nD. Saturn\n'
          'Answer with the letter of the correct option.')
CODE_PROMPT = 'def add(a, b):\n    """Return the sum of a and b."""\n'
CODE = f'Complete this Python function. Reply with code only.\n\n{CODE_PROMPT}'
CODE_TEST = 'def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n'


@pytest.fixture(scope='module')
def smollm2_outputs(smollm2):
    from evalkit.models.huggingface import HuggingFacewithChatTemplate
    model = HuggingFacewithChatTemplate(path=smollm2, max_seq_len=512)
    prompts = [model.prepare([{'role': 'HUMAN', 'prompt': p}]) for p in (ARITHMETIC, CHOICE, CODE)]
    # Greedy and short: the answers come first, a blank line ends them (a code block too, mostly).
    return dict(zip(('arithmetic', 'choice', 'code'), model.generate(prompts, 48, stop_words=['\n\n'])))


def test_real_outputs_number_and_option(smollm2_outputs):
    text = smollm2_outputs['arithmetic']
    number = last_number_postprocess(text)
    assert number and float(number) == float(re.findall(r'\d+(?:\.\d+)?', text.replace(',', ''))[-1])
    result = NumericMatchEvaluator().score([text], ['71'])
    assert result['accuracy'] == (100.0 if float(number) == 71 else 0.0)
    option = first_option_postprocess(smollm2_outputs['choice'])
    assert option in 'ABCD' and (option == '' or option in smollm2_outputs['choice'])
    accuracy = AccEvaluator().score([option], ['B'])['accuracy']
    assert accuracy == (100.0 if option == 'B' else 0.0)


def test_real_outputs_pass_at_1_matches_running_the_program(smollm2_outputs, tmp_path):
    completion = code_block_postprocess(smollm2_outputs['code'])
    reference = {'prompt': CODE_PROMPT, 'test': CODE_TEST, 'entry_point': 'add'}
    result = PassAtKEvaluator(timeout=10).score([completion], [reference])
    program = tmp_path / 'program.py'
    program.write_text(CODE_PROMPT + completion + '\n' + CODE_TEST + '\ncheck(add)\n')
    ran = subprocess.run([sys.executable, str(program)], capture_output=True, timeout=30, cwd=tmp_path)
    assert result['pass@1'] in (0.0, 100.0)
    assert result['pass@1'] == (100.0 if ran.returncode == 0 else 0.0), smollm2_outputs['code']
