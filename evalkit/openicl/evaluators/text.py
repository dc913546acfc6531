"""Text helpers shared by the evaluators: gold answer lists and SQuAD-style normalisation."""
import re
import string
import unicodedata

# Han ideographs (basic block, extension A, compatibility ideographs, and the supplementary planes).
_HAN = '\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f'
HAN_RE = re.compile(f'[{_HAN}]')
# A token: one Han character, or a run of anything else up to whitespace or a Han character.
_TOKEN_RE = re.compile(f'[{_HAN}]|[^\\s{_HAN}]+')
_ARTICLES_RE = re.compile(r'\b(a|an|the)\b')
_ASCII_PUNCTUATION = frozenset(string.punctuation)


def as_text(value):
    """A prediction or gold answer as a string; None (no answer) is the empty string."""
    return '' if value is None else str(value)


def gold_answers(reference):
    """The acceptable answers of a reference: a list or tuple of them, or a single one."""
    if isinstance(reference, (list, tuple)):
        return [as_text(r) for r in reference] or ['']
    return [as_text(reference)]


def has_han(text):
    return bool(HAN_RE.search(text))


def _is_punctuation(ch):
    return ch in _ASCII_PUNCTUATION or unicodedata.category(ch).startswith('P')


def normalize_answer(text):
    """SQuAD's normalisation: lower case, no punctuation, no articles (a, an, the), single spaces.

    Full-width forms are folded first (NFKC: ``ＡＢ１`` is ``AB1``) and all Unicode punctuation goes,
    so Chinese ``，。、《》“”`` is dropped like ASCII punctuation.
    """
    text = unicodedata.normalize('NFKC', as_text(text)).lower()
    text = ''.join(ch for ch in text if not _is_punctuation(ch))
    text = _ARTICLES_RE.sub(' ', text)
    return ' '.join(text.split())


def answer_tokens(text):
    """Tokens of the normalised text: words split on whitespace, and each Han character alone
    (as CMRC 2018's official scorer does), so Chinese needs no word segmenter and spaces between
    Chinese characters do not matter."""
    return _TOKEN_RE.findall(normalize_answer(text))
