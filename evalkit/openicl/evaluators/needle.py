"""Needle-in-a-haystack scoring: keyword containment, tolerant of phrasing and small misspellings.

A reference is a dict (``NeedleBenchDataset`` writes it): ``{'length', 'depth', 'needles':
[{'answer', 'keywords'}]}``. A needle is found when every one of its keywords is in the answer
(a keyword given as a list of spellings: any of them). A keyword is in the answer when it occurs
there after normalisation (Unicode NFKC, lower case), starting at a word boundary (``pear`` is
not found in ``appear``, ``marmot`` is found in ``marmots``; a number must also end at one:
``30`` is not in ``300``), or, for a keyword of five letters or more, when as many words of the
answer in a row have a normalised edit similarity (Levenshtein) of at least ``similarity`` with
it (``cardamon`` for ``cardamom``). A sample scores the share of its needles found: 0 or 1 with one needle.

Besides ``score`` (the mean, in percent, with its standard error), ``by_cell`` gives the mean
score of every (length, depth) cell of the grid, which the needle summarizer tabulates and draws.
"""
import re
import unicodedata
from collections import defaultdict

from ...utils.errors import EvalkitError
from .base import BaseEvaluator
from .text import as_text, has_han

# Fuzzy matching is kept to words long enough for a one-letter slip to leave them recognisable.
_FUZZY_MIN_CHARS = 5
_WORD_RE = re.compile(r'[0-9a-z]+')


def normalize(text):
    return ' '.join(unicodedata.normalize('NFKC', as_text(text)).lower().split())


def keyword_found(keyword, answer, similarity=0.8):
    """Whether ``keyword`` is in ``answer`` (both already normalised), as the module says."""
    if has_han(keyword):
        return keyword.replace(' ', '') in answer.replace(' ', '')
    end = r'(?![0-9])' if keyword[-1].isdigit() else ''
    if re.search(r'(?<![0-9a-z])' + re.escape(keyword) + end, answer):
        return True
    if len(keyword) < _FUZZY_MIN_CHARS or any(ch.isdigit() for ch in keyword):
        return False
    # Compared with every run of as many words in the answer, never with a span across words.
    from rapidfuzz.distance import Levenshtein
    width = len(_WORD_RE.findall(keyword))
    words = _WORD_RE.findall(answer)
    return any(Levenshtein.normalized_similarity(keyword, ' '.join(words[i:i + width])) >= similarity
               for i in range(len(words) - width + 1))


def needle_found(needle, answer, similarity=0.8):
    return all(any(keyword_found(normalize(k), answer, similarity) for k in spellings)
               for spellings in needle['keywords'])


class NeedleEvaluator(BaseEvaluator):
    """``score``: share of needles found per sample, in percent; ``by_cell``: the mean per
    (length, depth) cell. ``similarity``: the least normalised edit similarity (0..1) at which a
    long keyword counts as found with a misspelling."""

    def __init__(self, similarity=0.8, bootstrap=0, seed=0):
        super().__init__(bootstrap=bootstrap, seed=seed)
        if not 0 < similarity <= 1:
            raise EvalkitError(f'NeedleEvaluator: similarity={similarity!r}: give a number in (0, 1]')
        self.similarity = similarity

    def found(self, prediction, reference):
        if not isinstance(reference, dict) or not reference.get('needles'):
            raise EvalkitError('NeedleEvaluator scores needlebench rows: a reference must be a dict '
                               'with needles (made by NeedleBenchDataset)')
        answer = normalize(prediction)
        return [needle_found(n, answer, self.similarity) for n in reference['needles']]

    def sample_scores(self, predictions, references):
        scores = []
        for prediction, reference in zip(predictions, references):
            found = self.found(prediction, reference)
            scores.append(sum(found) / len(found))
        return {'score': scores}

    def evaluate(self, predictions, references):
        scores = self.sample_scores(predictions, references)
        details = self.sample_details(predictions, references, scores)
        cells = defaultdict(list)
        for reference, detail, value in zip(references, details, scores['score']):
            detail.update(length=reference.get('length'), depth=reference.get('depth'))
            cells[(reference.get('length'), reference.get('depth'))].append(value)
        by_cell = [dict(length=length, depth=depth, score=100.0 * sum(v) / len(v), num_samples=len(v))
                   for (length, depth), v in sorted(cells.items(), key=lambda kv: _cell_order(kv[0]))]
        return {**self.summarize(scores), 'by_cell': by_cell}, details


def _cell_order(cell):
    return tuple(-1 if v is None else v for v in cell)
