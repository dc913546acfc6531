"""Answer post-processors on the written forms models really produce, ugly ones included."""
import pytest

from evalkit.openicl import (POSTPROCESSORS, clean_text_postprocess, code_block_postprocess,
                             first_capital_postprocess, first_option_postprocess, last_number_postprocess,
                             strip_think_postprocess)
from evalkit.registry import build, resolve


@pytest.mark.parametrize('text, expected', [
    ('B', 'B'), ('(B)', 'B'), ('B.', 'B'), ('B)', 'B'), (' **B**', 'B'), ('Ｃ', 'C'),
    ('答案是B', 'B'), ('答案：B', 'B'), ('答案: D。因为……', 'D'), ('正确答案是 (C)', 'C'), ('答案应该选A', 'A'),
    ('选B', 'B'), ('所以选C。', 'C'), ('B选项是对的', 'B'),
    ('the answer is B', 'B'), ('Answer: (D)', 'D'), ('**Answer: C**', 'C'),
    ('The correct answer is option (A).', 'A'), ('The final answer is \\boxed{D}', 'D'),
    # An article or pronoun is not an option; a later explicit answer wins over a leading letter.
    ('A cat sits on the mat. The answer is B.', 'B'), ('A cat sits on the mat.', ''),
    ('A. Paris is the capital.\nAnswer: C', 'C'),
    ('Let me think. Option B is wrong, so D is right.', 'B'),
    ('I would pick C because it is larger', 'C'),
    ('The capital of France is Paris, which is option (B) in the list.', 'B'),
    ('ABCD are all letters', ''), ('CD-ROM', ''),
    ('', ''), (None, ''), ('   \n ', ''), ('I do not know.', ''),
])
def test_first_option_reads_the_answer_letter(text, expected):
    assert first_option_postprocess(text) == expected


def test_first_option_options_and_cushion():
    assert first_option_postprocess('The answer is E', options='ABCDE') == 'E'
    assert first_option_postprocess('The answer is E', options='ABCD') == ''
    # Without the cushion only stated answers and a leading option count.
    assert first_option_postprocess('It might be C', cushion=False) == ''
    assert first_option_postprocess('C, since it might be', cushion=False) == 'C'


@pytest.mark.parametrize('text, expected', [
    ('1,234.50', '1234.5'), ('The total is $1,234.', '1234'), ('It costs -5 dollars', '-5'),
    ('Temperature fell to −3.5 degrees', '-3.5'), ('a loss of $-12', '-12'),
    ('About 50% of them', '50'), ('She walks 5 km, then 12.5 km.', '12.5'), ('0.50', '0.5'),
    ('3/4 of the pie', '0.75'), ('x = \\frac{3}{4}', '0.75'), ('So the answer is \\boxed{1{,}200}.', '1200'),
    ('\\boxed{12} and later 15', '12'), ('1e3 grams', '1000'),
    ('Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips.\n#### 72', '72'),
    ('#### 1,000\n\nQuestion: next one has 5', '1000'),
    ('COVID-19 cases: 10-3=7 left', '7'), ('答案是72元。', '72'), ('共有 2,125 个', '2125'),
    ('It happened on 1/2/2020', '2020'),
    ('the numbers 1,2345', '2345'), ('-0', '0'), ('.5 litres', '0.5'),
    ('no number here', ''), ('', ''), (None, ''),
])
def test_last_number(text, expected):
    assert last_number_postprocess(text) == expected


@pytest.mark.parametrize('text, expected', [
    ('<think>2+2 is 4</think>The answer is 4.', 'The answer is 4.'),
    ('<think>a</think> B <think>more</think>\n', 'B'),
    ('<think>I ran out of tokens while', ''),
    ('the prompt opened the block\n</think>\n\nAnswer: C', 'Answer: C'),
    ('no reasoning at all', 'no reasoning at all'),
    ('', ''), (None, ''),
])
def test_strip_think(text, expected):
    assert strip_think_postprocess(text) == expected


@pytest.mark.parametrize('text, expected', [
    ('  "**Paris** is the `capital`."  \n\n', 'Paris is the capital.'),
    ('```\nParis\n```', 'Paris'),
    ('*Paris*,   _France_', 'Paris, France'),
    ('“北京”', '北京'), ("'quoted'", 'quoted'),
    ('snake_case and 2*3*4 stay', 'snake_case and 2*3*4 stay'),
    ('', ''), (None, ''),
])
def test_clean_text(text, expected):
    assert clean_text_postprocess(text) == expected


def test_code_block_keeps_indentation():
    text = 'Here you go:\n```python\ndef f(x):\n    return x + 1\n```\nIt adds one.'
    assert code_block_postprocess(text) == 'def f(x):\n    return x + 1\n'
    assert code_block_postprocess('```python\ndef f():\n    pass') == 'def f():\n    pass'
    assert code_block_postprocess('    return x\n') == '    return x\n'


def test_unchanged_first_capital_and_strip():
    assert first_capital_postprocess('answer: B, not C') == 'B'
    assert first_capital_postprocess('no capitals') == ''
    assert resolve('strip')('  B \n') == 'B'


def test_registered_names_and_exported_functions_resolve_alike():
    for name, fn in [('first-option', first_option_postprocess), ('last-number', last_number_postprocess),
                     ('strip-think', strip_think_postprocess), ('clean-text', clean_text_postprocess),
                     ('code-block', code_block_postprocess), ('first-capital', first_capital_postprocess)]:
        assert POSTPROCESSORS[name] is fn
        assert resolve(name) is fn
        assert resolve(fn.__name__) is fn
    assert build({'type': 'evalkit.openicl.AccEvaluator'}).score(['B'], ['B'])['accuracy'] == 100.0
