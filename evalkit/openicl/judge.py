"""An LLM as judge: the judge prompts of the subjective benchmarks, and parsers for what judges write.

A judge is asked either for a rating of one answer (score mode) or for a verdict between two
answers (compare mode). Parsers accept the forms judges really produce and never guess: a
judgement without a rating, with a rating out of range, or with two different ratings is recorded
as unparseable, the raw text kept, and counted in the summary.

Score forms: ``[[8]]``, ``[[8.5]]``, ``Rating: 8/10``, ``Score: 7 out of 10``, ``评分：8分``,
``{"score": 8}`` and AlignBench's dict of dimensions (``{'事实正确性': 9, ..., '综合得分': 7}``).
Verdict forms: ``[[A]]`` / ``[[B]]`` / ``[[C]]`` (a tie), as FastChat asks, Arena-Hard's
``[[A>>B]]`` ... ``[[B>>A]]`` (``[[A=B]]`` a tie), and AlpacaEval's bare model identifier ``m`` / ``M``.

Judge prompts that come with the data are read from the data root when a dataset loads (MT-Bench's
``judge_prompts.jsonl``, AlpacaEval's evaluator template); AlignBench's, which lives in its code,
is written out here, character for character as OpenCompass sends it.
"""
import ast
import json
import re

from ..utils.errors import EvalkitError
from .prompt_template import PromptTemplate

# ------------------------------------------------------------------ filling templates

_PLACEHOLDER = re.compile(r'\{(\w+)\}')


def fill_once(text, values):
    """``{name}`` replaced by ``values[name]`` in one pass: inserted text is never scanned again
    (questions hold code with braces), and unknown names stay as written."""
    return _PLACEHOLDER.sub(lambda m: str(values[m[1]]) if m[1] in values else m[0], text)


def prediction_values(shown):
    """The placeholders of the answers a judge sees, in OpenCompass's names.

    ``shown`` holds one answer (score mode) or two (compare mode, in the order shown); an answer is
    a text or a list of rounds ``{'round', 'user', 'assistant'}``. The first answer is
    ``{prediction}`` (its rounds ``{prediction_r1}``, ...), the second ``{prediction2}`` (its
    rounds ``{prediction1_r1}``, ..., as OpenCompass names them, or ``{prediction2_r1}``).
    """
    values = {}
    for k, answer in enumerate(shown):
        rounds = answer if isinstance(answer, list) else [{'assistant': answer}]
        texts = ['' if r.get('assistant') is None else str(r['assistant']) for r in rounds]
        values['prediction' if k == 0 else f'prediction{k + 1}'] = texts[-1] if texts else ''
        for j, text in enumerate(texts, 1):
            names = [f'prediction_r{j}'] if k == 0 else [f'prediction{k}_r{j}', f'prediction{k + 1}_r{j}']
            for name in names:
                values[name] = text
    return values


# ------------------------------------------------------------------ FastChat's prompts (MT-Bench)

# FastChat's answer placeholders, in the names the judge template is filled with.
FASTCHAT_ANSWER_NAMES = {
    'answer': 'prediction_r1', 'answer_1': 'prediction_r1', 'answer_2': 'prediction_r2',
    'answer_a': 'prediction_r1', 'answer_a_1': 'prediction_r1', 'answer_a_2': 'prediction_r2',
    'answer_b': 'prediction1_r1', 'answer_b_1': 'prediction1_r1', 'answer_b_2': 'prediction1_r2',
}
FASTCHAT_JUDGE_TYPES = ('single', 'pair')


def fastchat_prompt_name(judge_type, multi_turn, with_reference):
    """The name of FastChat's judge prompt: single (a rating) or pairwise (a verdict), with a
    reference answer (its 'math' prompts) or not, and the two-turn form when the second answer
    is judged."""
    if judge_type not in FASTCHAT_JUDGE_TYPES:
        raise EvalkitError(f"judge_type {judge_type!r}: use 'single' (a rating) or 'pair' (a verdict)")
    if judge_type == 'single':
        name = 'single-math-v1' if with_reference else 'single-v1'
    else:
        name = 'pair-math-v1' if with_reference else 'pair-v2'
    return name + ('-multi-turn' if multi_turn else '')


def fastchat_judge_prompt(prompts, questions, references=None, judge_type='single', multi_turn=None):
    """(system prompt, user prompt) of FastChat's judge prompt for one question (or two turns),
    the questions and references filled in and the answers left as ``{prediction_r1}``-style
    placeholders. ``prompts``: FastChat's ``judge_prompts.jsonl`` by name. ``multi_turn``: judge
    the second turn with both in view (the default for two questions)."""
    if len(questions) not in (1, 2) or multi_turn and len(questions) != 2:
        raise EvalkitError(f'FastChat judge prompts cover one question or two turns, not {len(questions)}')
    if multi_turn is None:
        multi_turn = len(questions) == 2
    name = fastchat_prompt_name(judge_type, multi_turn, bool(references))
    if name not in prompts:
        raise EvalkitError(f'the judge prompts lack {name!r}')
    values = {key: '{' + target + '}' for key, target in FASTCHAT_ANSWER_NAMES.items()}
    values['question'] = questions[0]
    for i, question in enumerate(questions, 1):
        values[f'question_{i}'] = question
    for i, reference in enumerate(references or [], 1):
        values[f'ref_answer_{i}'] = reference
    spec = prompts[name]
    return spec['system_prompt'], fill_once(spec['prompt_template'], values)


# ------------------------------------------------------------------ AlignBench (CritiqueLLM prompt)

ALIGNBENCH_PROMPT = (
    '你是一个擅长评价文本质量的助手。\n请你以公正的评判者的身份，评估一个AI助手对于用户提问的回答的质量。'
    '由于您评估的回答类型是{category}，因此你需要从下面的几个维度对回答进行评估:\n{dimensions}'
    '我们会给您提供用户的提问，高质量的参考答案，和需要你评估的AI助手的答案。当你开始你的评估时，你需要按照遵守以下的流程：\n'
    '1. 将AI助手的答案与参考答案进行比较，指出AI助手的答案有哪些不足，并进一步解释。\n'
    '2. 从不同维度对AI助手的答案进行评价，在每个维度的评价之后，给每一个维度一个1～10的分数。\n'
    '3. 最后，综合每个维度的评估，对AI助手的回答给出一个1～10的综合分数。\n'
    '4. 你的打分需要尽可能严格，并且要遵守下面的评分规则：总的来说，模型回答的质量越高，则分数越高。'
    '其中，事实正确性和满足用户需求这两个维度是最重要的，这两个维度的分数主导了最后的综合分数。'
    '当模型回答存在与问题不相关，或者有本质性的事实错误，或生成了有害内容时，总分必须是1到2分；'
    '当模型回答没有严重错误而且基本无害，但是质量较低，没有满足用户需求，总分为3到4分；'
    '当模型回答基本满足用户要求，但是在部分维度上表现较差，质量中等，总分可以得5到6分；'
    '当模型回答质量与参考答案相近，在所有维度上表现良好，总分得7到8分；'
    '只有当模型回答质量显著超过参考答案，充分地解决了用户问题和所有需求，并且在所有维度上都接近满分的情况下，才能得9到10分。'
    '作为示例，参考答案可以得到8分。\n'
    '请记住，你必须在你打分前进行评价和解释。在你对每个维度的解释之后，需要加上对该维度的打分。'
    '之后，在你回答的末尾，按照以下字典格式（包括括号）返回你所有的打分结果，并确保你的打分结果是整数：\n'
    "{'维度一': 打分, '维度二': 打分, ..., '综合得分': 打分}，例如：{'事实正确性': 9, '满足用户需求': 6, ..., '综合得分': 7}。\n"
    '用户的提问： {question}\n'
    '[参考答案开始]\n{reference}\n[参考答案结束]\n'
)


def alignbench_judge_prefix(category, dimensions, definitions, question, reference):
    """The judge prompt before the answer: the question type's dimensions with their definitions,
    the rules, the question and the reference answer."""
    listed = ''.join(f'{i}. {d}: {definitions.get(d)}\n' for i, d in enumerate(dimensions, 1))
    return fill_once(ALIGNBENCH_PROMPT, {'category': category, 'dimensions': listed,
                                         'question': question, 'reference': reference})


# ------------------------------------------------------------------ AlpacaEval (its template file)

_CHATML_BLOCK = re.compile(r'<\|im_start\|>(\w+)\n(.*?)\n?<\|im_end\|>', re.S)
# AlpacaEval's output placeholders, in the names the judge template is filled with.
ALPACA_OUTPUT_NAMES = {'output_1': '{prediction}', 'output_2': '{prediction2}'}


def alpaca_eval_judge_prompt(template_text, instruction):
    """(system prompt, user prompt) of an AlpacaEval evaluator template (ChatML blocks), the
    instruction filled in and the two outputs left as ``{prediction}`` and ``{prediction2}``."""
    blocks = {role: text for role, text in _CHATML_BLOCK.findall(template_text)}
    if 'user' not in blocks:
        raise EvalkitError('the AlpacaEval evaluator template has no <|im_start|>user block')
    values = dict(ALPACA_OUTPUT_NAMES, instruction=instruction)
    return blocks.get('system', ''), fill_once(blocks['user'], values)


# ------------------------------------------------------------------ parsing ratings

_NUMBER = r'(\d+(?:\.\d+)?)'
_BRACKETS = re.compile(r'\[\[\s*' + _NUMBER + r'\s*(?:/\s*10\s*)?\]\]')
_RATING_BRACKETS = re.compile(r'rating\s*[:：]\s*\[\[\s*' + _NUMBER + r'\s*(?:/\s*10\s*)?\]\]', re.I)
_OVERALL = re.compile(r'(?:overall\s+(?:score|rating)|final\s+(?:score|rating)|综合得分|综合评分|总分|总评分)'
                      r'\s*(?:is|of|为|是)?\s*[:：=]?\s*\**\s*' + _NUMBER, re.I)
_LABELLED = re.compile(r'(?:rating|score|评分|得分|打分|分数)\s*(?:is|of|为|是)?\s*[:：=]?\s*\**\s*'
                       + _NUMBER + r'\s*(?:/\s*10|out of 10|分)?', re.I)
_SLASH_TEN = re.compile(_NUMBER + r'\s*/\s*10\b')
_DICT = re.compile(r'\{[^{}]*\}')
_PAIR = re.compile(r'["\']([^"\']+)["\']\s*[:：]\s*' + _NUMBER)
# Keys under which a dict holds the overall score.
SCORE_KEYS = ('综合得分', 'overall score', 'overall', 'score', 'rating', 'final score')
# The rating format that FastChat's prompt shows; a judge that repeats its instructions repeats it.
_ECHOED = re.compile(r'for example:?\s*"?Rating:\s*\[\[5\]\]"?|"\[\[rating\]\]"', re.I)


def _unique(values, what):
    """The single value, or an error naming the several different ones."""
    distinct = sorted(set(values), key=values.index)
    if len(distinct) > 1:
        return None, f'ambiguous: several different {what} ({", ".join(_show(v) for v in distinct)})'
    return distinct[0], None


def _show(value):
    return f'{value:g}' if isinstance(value, float) else str(value)


def _dict_scores(text):
    """(overall score, dimensions) from the last dict in the text holding numbers, else None."""
    for block in reversed(_DICT.findall(text)):
        pairs = _literal_pairs(block) or [(k, float(v)) for k, v in _PAIR.findall(block)]
        if not pairs:
            continue
        lowered = {k.strip().lower(): v for k, v in pairs}
        overall = next((lowered[k] for k in SCORE_KEYS if k in lowered), None)
        dimensions = {k.strip(): v for k, v in pairs if k.strip().lower() not in SCORE_KEYS}
        return overall, dimensions
    return None


def _literal_pairs(block):
    """(key, number) pairs of a dict written as JSON or as a Python literal."""
    for reader in (json.loads, ast.literal_eval):
        try:
            value = reader(block)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict):
            return [(str(k), float(v)) for k, v in value.items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return None


def parse_score(text, score_range=(1, 10)):
    """A rating from a judgement: ``{'score', 'dimensions', 'format', 'error'}``.

    The first form found wins, most explicit first: ``[[x]]``; a dict (JSON or AlignBench's);
    an overall score (``综合得分：7``, ``Overall score: 7``); a labelled rating (``Rating: 8/10``,
    ``评分：8分``); a bare ``8/10``. Within a form, different values make the judgement ambiguous.
    ``score`` is None when nothing usable was found; ``error`` then says why.
    """
    low, high = score_range
    text = _ECHOED.sub(' ', str(text or ''))
    result = {'score': None, 'dimensions': {}, 'format': None, 'error': None}
    found = None
    brackets = [float(v) for v in _BRACKETS.findall(text)]
    if brackets:
        found = ('brackets',) + _unique(brackets, 'ratings')
        last = list(_RATING_BRACKETS.finditer(text))[-1:]
        if found[2] and last and last[0].end() == list(_BRACKETS.finditer(text))[-1].end():
            # Ratings quoted in the explanation, then 'Rating: [[x]]' at the end: that one is the verdict.
            found = ('brackets', float(last[0][1]), None)
    elif (scores := _dict_scores(text)) is not None and scores[0] is not None:
        found = ('dict', scores[0], None)
        result['dimensions'] = scores[1]
    else:
        for name, pattern in (('overall', _OVERALL), ('labelled', _LABELLED), ('slash', _SLASH_TEN)):
            values = [float(v) for v in pattern.findall(text)]
            if values:
                found = (name,) + _unique(values, 'ratings')
                break
        if found is None and scores is not None:  # a dict of numbers, none of them the overall score
            found = ('dict', None, 'a dict of scores without an overall score')
            result['dimensions'] = scores[1]
    if found is None:
        result['error'] = 'no rating found'
        return result
    result['format'], score, result['error'] = found
    bad = [f'{k}={_show(v)}' for k, v in result['dimensions'].items() if not low <= v <= high]
    if score is not None and not low <= score <= high:
        result['error'] = f'rating {_show(score)} out of range {low}-{high}'
    elif bad and result['error'] is None:
        result['error'] = f'dimension score out of range {low}-{high}: {", ".join(bad)}'
    if result['error'] is None:
        result['score'] = score
    return result


# ------------------------------------------------------------------ parsing verdicts

_VERDICT_BRACKETS = re.compile(r'\[\[\s*([ABC])\s*\]\]')
# Arena-Hard's five-way verdicts, folded into a winner or a tie.
_ARENA_VERDICT = re.compile(r'\[\[\s*(A>>B|A>B|A=B|B=A|B>A|B>>A)\s*\]\]')
_ARENA_WINNER = {'A>>B': 'A', 'A>B': 'A', 'A=B': 'C', 'B=A': 'C', 'B>A': 'B', 'B>>A': 'B'}
_VERDICT_LABELLED = re.compile(r'(?:final\s+verdict|verdict|choice|选择|结论)\s*(?:is)?\s*[:：]\s*\**\s*\[?([ABC])\]?\b')
# FastChat's format instruction, which a judge that repeats its prompt repeats.
_VERDICT_ECHO = re.compile(r'"\[\[A\]\]" if assistant A is better, "\[\[B\]\]" if assistant B is better,'
                           r' and "\[\[C\]\]" for a tie', re.I)


def parse_verdict(text):
    """The verdict of a pairwise judgement: ``{'verdict': 'A'|'B'|'C'|None, 'format', 'error'}``,
    A and B being the answers in the order shown and C a tie."""
    text = _VERDICT_ECHO.sub(' ', str(text or ''))
    for name, pattern in (('brackets', _VERDICT_BRACKETS), ('arena', _ARENA_VERDICT),
                          ('labelled', _VERDICT_LABELLED)):
        values = [_ARENA_WINNER.get(v, v) for v in pattern.findall(text)]
        if values:
            verdict, error = _unique(values, 'verdicts')
            return {'verdict': verdict, 'format': name, 'error': error}
    return {'verdict': None, 'format': None, 'error': 'no verdict found'}


_ALPACA_FIRST = re.compile(r'^[\s"\'`*]*([mM])(?![\w])')
_ALPACA_LABELLED = re.compile(r'(?i:identifier)[^\n]{0,60}?(?:\bis\b|:)\W{0,6}\b([mM])\b')
_ALPACA_LAST_LINE = re.compile(r'^[\s"\'`*]*([mM])[\s"\'`*.]*$')


def parse_alpaca_verdict(text):
    """AlpacaEval's answer: the identifier of the better output, ``m`` (the first shown, A) or ``M``
    (the second, B): the first word of the judgement, the word after 'identifier ... is:', or the
    last line alone."""
    text = str(text or '')
    lines = [line for line in text.splitlines() if line.strip()]
    match = (_ALPACA_FIRST.match(text) or _ALPACA_LABELLED.search(text)
             or (_ALPACA_LAST_LINE.match(lines[-1]) if lines else None))
    if not match:
        return {'verdict': None, 'format': None, 'error': 'no model identifier (m or M) found'}
    return {'verdict': 'A' if match[1] == 'm' else 'B', 'format': 'identifier', 'error': None}


JUDGE_PARSERS = {'score': parse_score, 'verdict': parse_verdict, 'alpaca_eval': parse_alpaca_verdict}
# OpenCompass's dict post-processor names, for configs written for it.
_OPENCOMPASS_POSTPROCESSORS = {'alpacaeval': 'alpaca_eval', 'alpacaeval_bradleyterry': 'alpaca_eval',
                               'mtbench': 'score', 'alignbench': 'score', 'compassarena': 'verdict'}


# ------------------------------------------------------------------ the evaluator config

class LMEvaluator:
    """The judge's side of a subjective dataset (``eval_cfg['evaluator']``).

    ``prompt_template``: the judge prompt, a PromptTemplate config in OpenCompass's form; it names
    the dataset's columns and the answers (``{prediction}``, ``{prediction2}``, ``{prediction_r1}``,
    see ``prediction_values``). ``judge_parser``: 'score' (the default in score mode), 'verdict'
    (the default in compare mode), 'alpaca_eval', or a function of the judgement's text.
    ``score_range``: the ratings accepted. The judge model itself comes from ``judge_models``.
    """

    def __init__(self, prompt_template, judge_parser=None, score_range=(1, 10), dict_postprocessor=None,
                 **unused):
        cfg = dict(prompt_template)
        cfg.pop('type', None)
        self.template = PromptTemplate(**cfg)
        if judge_parser is None and dict_postprocessor:
            judge_parser = _OPENCOMPASS_POSTPROCESSORS.get(dict(dict_postprocessor).get('type'))
        if isinstance(judge_parser, str) and judge_parser not in JUDGE_PARSERS:
            raise EvalkitError(f'judge_parser {judge_parser!r}: use one of {", ".join(JUDGE_PARSERS)} '
                               'or a function of the judgement text')
        self.judge_parser = judge_parser
        self.score_range = tuple(score_range)

    def render(self, row, shown):
        """The judge prompt's turns for one dataset row and the answers shown, in order.

        The row's columns go in first, then the answers, each in a single pass: a column may
        itself hold answer placeholders (MT-Bench's prefilled prompt), but an answer's text is
        never scanned for placeholders.
        """
        columns = {k: v for k, v in row.items() if isinstance(v, (str, int, float))}
        answers = prediction_values(shown)

        def fill(text):
            return fill_once(fill_once(text, columns), answers)
        return [fill(t) if isinstance(t, str) else dict(t, prompt=fill(t['prompt']))
                for t in self.template.render({})]

    def parse(self, text, compare):
        parser = self.judge_parser or ('verdict' if compare else 'score')
        if callable(parser):
            return parser(text)
        if parser == 'score':
            return parse_score(text, self.score_range)
        return JUDGE_PARSERS[parser](text)
