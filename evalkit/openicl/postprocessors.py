"""Answer post-processors: raw model text in, the answer to compare with gold out.

Configs name them by function (``type=first_capital_postprocess``) or by registered name
(``type='first-capital'``), as OpenCompass configs do.
"""
import re

POSTPROCESSORS = {}


def register(name):
    def wrap(fn):
        POSTPROCESSORS[name] = fn
        return fn
    return wrap


@register('first-capital')
def first_capital_postprocess(text: str) -> str:
    """The first capital letter of the text (C-Eval's answer extraction)."""
    for ch in text:
        if ch.isupper():
            return ch
    return ''


@register('first-option')
def first_option_postprocess(text: str, options: str = 'ABCD') -> str:
    """The first option letter that stands as an answer ("答案是B", "(C)", "B."), else ''."""
    letters = re.escape(options)
    patterns = [
        rf'答案(?:是|为|：|:)\s*\(?([{letters}])',
        rf'[Aa]nswer(?: is|:)\s*\(?([{letters}])\b',
        rf'^\s*\(?([{letters}])(?:[\.\)．、:：\s]|$)',
        rf'\b([{letters}])\b',
    ]
    for pattern in patterns:
        match = re.search(pattern, text, flags=re.MULTILINE)
        if match:
            return match.group(1)
    return ''


@register('strip')
def strip_postprocess(text: str) -> str:
    return text.strip()
