"""Text normalisation and n-grams for overlap detection.

Text is normalised (NFKC, lower case) and cut into tokens: every CJK character is a token of its
own, and every run of other letters and digits is one word; punctuation and spaces are dropped,
so that a copy with other punctuation, spacing or full-width characters still matches. Single
Latin letters take no part in n-grams (see ``gram_tokens``).

A sample is measured in word n-grams when it is written mostly in words (English: 13-grams, as in
the GPT-3 and Llama-2 contamination studies) and in character n-grams when it is mostly CJK
(Chinese has no spaces; a shorter n, as a character carries more than a letter). A text shorter
than n is measured in n-grams of half that size; one shorter still is too short to judge.
"""
import re
import unicodedata

# CJK ideographs (with extensions A and compatibility), kana and Hangul syllables.
_CJK = '\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af'
_TOKEN = re.compile(f'[{_CJK}]|[^\\W_{_CJK}]+')
# The same tokens less single Latin letters: a CJK character, a run of two or more word
# characters, or one word character that is not a-z.
_GRAM_TOKEN = re.compile(f'[{_CJK}]|[^\\W_{_CJK}]{{2,}}|[^\\W_{_CJK}a-z]')

WORD_N = 13
CHAR_N = 8
# A sample whose tokens are at least this share CJK characters is measured in character n-grams.
CJK_SHARE = 0.3


def tokens(text):
    """The tokens of ``text``: single CJK characters and lower-cased words/numbers."""
    return _TOKEN.findall(unicodedata.normalize('NFKC', text).lower())


def gram_tokens(toks):
    """The tokens n-grams are made of: all but single Latin letters, so that option labels
    (``A.``, ``(B)``) and the article ``a`` neither break nor make a match."""
    return [t for t in toks if not _is_letter(t)]


def text_gram_tokens(text):
    """``gram_tokens(tokens(text))`` in one pass of the pattern (the corpus side's hot path)."""
    return _GRAM_TOKEN.findall(unicodedata.normalize('NFKC', text).lower())


def gram_positions(toks):
    """The positions in ``toks`` of the tokens ``gram_tokens`` keeps."""
    return [i for i, t in enumerate(toks) if not _is_letter(t)]


def _is_letter(token):
    return len(token) == 1 and 'a' <= token <= 'z'


def is_cjk(token):
    return len(token) == 1 and re.match(f'[{_CJK}]', token) is not None


def ngram_size(toks, word_n=WORD_N, char_n=CHAR_N):
    """The n-gram size for a sample's tokens: ``char_n`` when mostly CJK, else ``word_n``; half
    of it (rounded up) for a text shorter than that, None for a text too short to judge."""
    if not toks:
        return None
    cjk = sum(1 for t in toks if is_cjk(t))
    n = char_n if cjk / len(toks) >= CJK_SHARE else word_n
    if len(toks) >= n:
        return n
    half = (n + 1) // 2
    return half if len(toks) >= half else None


def ngrams(toks, n):
    """The set of n-grams (tuples of tokens) of a token list."""
    return set(zip(*(toks[k:] for k in range(n))))


def contains_run(toks, run):
    """Whether the token list ``run`` occurs contiguously in ``toks``."""
    if not run:
        return False
    first, size = run[0], len(run)
    return any(toks[i:i + size] == run for i, t in enumerate(toks) if t == first)


def iter_ngrams(toks, n):
    """The n-grams of a token list in order, without building a set (for long corpus texts)."""
    return zip(*(toks[k:] for k in range(n)))
