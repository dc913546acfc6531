"""Answer post-processors: raw model text in, the answer to compare with gold out.

Configs name them by function (``type=first_capital_postprocess``) or by registered name
(``type='first-capital'``), as OpenCompass configs do. Each takes the text (None counts as empty)
and returns a string, '' when there is no answer to find.
"""
import re
import unicodedata
from decimal import Decimal, localcontext
from functools import lru_cache

POSTPROCESSORS = {}


def register(name):
    def wrap(fn):
        POSTPROCESSORS[name] = fn
        return fn
    return wrap


@register('first-capital')
def first_capital_postprocess(text: str) -> str:
    """The first capital letter of the text (C-Eval's answer extraction)."""
    for ch in text or '':
        if ch.isupper():
            return ch
    return ''


@register('strip')
def strip_postprocess(text: str) -> str:
    return (text or '').strip()


# ---------------------------------------------------------------------------- options
_OPEN = r'[\(\[（【]?'
_CLOSE = r'[\)\]）】]?'


@lru_cache(maxsize=None)
def _option_patterns(options):
    """Patterns for the option letter, strongest evidence first; each captures ``option``."""
    letter = rf'{_OPEN}\s*(?P<option>[{re.escape(options)}])(?![A-Za-z0-9])'
    explicit = '|'.join([
        # 答案是B, 答案：B, 正确答案是 (C), 答案应该选B, 答案选项为C
        r'答案(?:选项)?(?:应该|应)?(?:是|为|選|选)?\s*[:：]?\s*',
        # the answer is B, The correct answer is option (C), Answer: (D), final answer: B
        r'(?i:answer)\s*(?i:is|would be|should be|will be)?\s*[:：]?\s*(?i:option|choice)?\s*[:：]?\s*',
        r'\\boxed\{\s*(?:\\text\{)?\s*',
    ])
    stated = '|'.join([
        # 选B, 选择B, 故选B, 选项C正确 (after "the answer" phrases: options are often discussed first)
        r'选(?:择|项)?\s*[:：]?\s*',
        r'(?i:option|choice)\s*[:：]?\s*',
    ])
    return (re.compile(rf'(?:{explicit}){letter}'),
            re.compile(rf'(?:{stated}){letter}'),
            re.compile(rf'^\s*{letter}{_CLOSE}'),
            re.compile(rf'(?<![A-Za-z]){letter}'))


def _is_english_word(text, match):
    """'A' and 'I' followed by a lower-case word are English words ("A cat", "I think")."""
    return (match.group('option') in 'AI'
            and re.match(r'\s+[a-z]', text[match.end('option'):]) is not None)


@register('first-option')
def first_option_postprocess(text: str, options: str = 'ABCD', cushion: bool = True) -> str:
    """The option letter the text gives as its answer, else ''.

    Evidence is taken in this order, the first match of the strongest kind winning: an explicit
    answer phrase ("答案是B", "答案：B", "the answer is B", "Answer: (D)", "\\boxed{C}"), a stated
    choice ("选B", "option C"), an option at the very start ("B", "(B)", "B.", "B)", "**B**"),
    and, when ``cushion`` is on, any standalone option letter. "A" and "I" followed by a lower-case
    word are read as English, so "A cat ... the answer is B" gives B. Markdown emphasis and
    full-width letters are read through.
    """
    text = unicodedata.normalize('NFKC', text or '').replace('*', '')
    patterns = _option_patterns(options)
    for pattern in patterns if cushion else patterns[:-1]:
        for match in pattern.finditer(text):
            if not _is_english_word(text, match):
                return match.group('option')
    return ''


# ---------------------------------------------------------------------------- numbers
_NUMBER_RE = re.compile(r'''
    (?:(?<![A-Za-z0-9.])(?P<sign>[-−]))?        # a minus sign, not a hyphen inside a word
    (?<![\d.])                                  # not the middle of a number
    (?:[$€£¥]\s?)?
    (?P<sign2>-)?                               # $-5
    (?P<number>\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?   # 1,234 and 1,234.5
              |\d+(?:\.\d+)?|\.\d+)
    (?:[eE](?P<exponent>[-+]?\d+))?
    (?:/(?P<denominator>\d+(?:\.\d+)?))?        # 3/4
    (?P<date>(?=/\d))?                          # 1/2/2020 is a date, not fractions
''', re.VERBOSE)
_FRAC_RE = re.compile(r'\\[dt]?frac\{\s*([^{}]*?)\s*\}\{\s*([^{}]*?)\s*\}')


def _last_boxed(text):
    """The content of the last ``\\boxed{...}`` (braces balanced), or None."""
    start = text.rfind('\\boxed{')
    if start == -1:
        return None
    depth, begin = 0, start + len('\\boxed{')
    for i in range(begin, len(text)):
        if text[i] == '{':
            depth += 1
        elif text[i] == '}':
            if depth == 0:
                return text[begin:i]
            depth -= 1
    return text[begin:]


def _numbers(text):
    text = _FRAC_RE.sub(r'\1/\2', text.replace('{,}', ','))
    for match in _NUMBER_RE.finditer(text):
        value = Decimal(match.group('number').replace(',', ''))
        if match.group('exponent'):
            value = value.scaleb(int(match.group('exponent')))
        if match.group('sign') or match.group('sign2'):
            value = -value
        denominator = match.group('denominator')
        if denominator and match.group('date') is None and Decimal(denominator):
            with localcontext() as ctx:
                ctx.prec = 15
                value = value / Decimal(denominator)
        elif denominator:
            yield value
            value = Decimal(denominator)
        yield value


def last_number(text):
    """The answer number of a free-text answer as a Decimal, or None.

    The last number in the last ``\\boxed{}`` if there is one, else the first number after the last
    ``####`` (GSM8K's answer mark), else the last number in the text. Read through: thousands
    commas (1,234), currency signs, percent signs and units (50%, 5 km: 50 and 5), minus signs
    (not a hyphen inside a word: COVID-19 is 19), decimals, exponents, and fractions (3/4 and
    \\frac{3}{4} are 0.75; 1/2/2020 is a date: 1, 2 and 2020).
    """
    text = unicodedata.normalize('NFKC', text or '')
    boxed = _last_boxed(text)
    if boxed is not None:
        found = _last(_numbers(boxed))
        if found is not None:
            return found
    if '####' in text:
        found = next(_numbers(text.rpartition('####')[2]), None)
        if found is not None:
            return found
    return _last(_numbers(text))


def _last(values):
    found = None
    for found in values:
        pass
    return found


def format_number(value):
    """A Decimal written plainly: 1234.50 -> '1234.5', 1E+3 -> '1000', -0 -> '0'."""
    text = format(value.normalize(), 'f')
    return '0' if text in ('-0', '0') else text


@register('last-number')
def last_number_postprocess(text: str) -> str:
    """The answer number of a free-text answer (see ``last_number``), written plainly
    ('1,234.50' -> '1234.5', '3/4' -> '0.75'); '' when there is none."""
    value = last_number(text)
    return '' if value is None else format_number(value)


# ---------------------------------------------------------------------------- text clean-up
_THINK_BLOCK_RE = re.compile(r'<think>.*?</think>', re.DOTALL)


@register('strip-think')
def strip_think_postprocess(text: str) -> str:
    """The text without reasoning blocks: every ``<think>...</think>``; whatever comes before a
    stray ``</think>`` (the opening tag was in the prompt); and an unclosed ``<think>`` to the end
    (the model ran out of tokens while thinking, so gave no answer)."""
    text = _THINK_BLOCK_RE.sub('', text or '')
    text = text.rpartition('</think>')[2]
    return text.partition('<think>')[0].strip()


_FENCE_LINE_RE = re.compile(r'^\s*```.*$', re.MULTILINE)
# Bold, then italics (not the * of 2*3 nor the _ of snake_case), then inline code.
_EMPHASIS_RES = [re.compile(p) for p in (r'\*\*(.+?)\*\*', r'__(.+?)__',
                                         r'(?<!\w)\*(?!\s)(.+?)(?<!\s)\*(?!\w)',
                                         r'(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)', r'`([^`]*)`')]
_QUOTES = {'"': '"', "'": "'", '“': '”', '‘': '’', '「': '」', '『': '』', '«': '»'}


@register('clean-text')
def clean_text_postprocess(text: str) -> str:
    """Plain text: code fence lines, markdown bold, italics and inline code marks removed (their
    content kept), whitespace collapsed to single spaces, surrounding quotes removed."""
    text = _FENCE_LINE_RE.sub(' ', text or '')
    for pattern in _EMPHASIS_RES:
        text = pattern.sub(r'\1', text)
    text = ' '.join(text.split())
    while len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


_CODE_BLOCK_RE = re.compile(r'```[^\n`]*\n(.*?)(?:```|$)', re.DOTALL)


@register('code-block')
def code_block_postprocess(text: str) -> str:
    """The first fenced code block's content (chat models wrap code in ```python ... ```), or the
    whole text when it has none. Indentation is kept."""
    text = text or ''
    match = _CODE_BLOCK_RE.search(text)
    return match.group(1) if match else text
