"""SQuAD token F1 (and exact match), in percent."""
from collections import Counter

from .base import BaseEvaluator
from .exact_match import exact_match
from .text import answer_tokens, gold_answers


class TokenF1Evaluator(BaseEvaluator):
    """``f1``: the harmonic mean of token precision and recall between the normalised prediction
    and gold answer (the best over a list of gold answers), as SQuAD scores it; ``exact_match``
    as ExactMatchEvaluator. Both in percent.

    Chinese is compared character by character (each Han character is a token, English words
    stay whole), as CMRC 2018's official scorer does: no word segmenter, so no segmentation
    errors in the score.
    """

    def sample_scores(self, predictions, references):
        return {'f1': [max(token_f1(p, g) for g in gold_answers(r)) for p, r in zip(predictions, references)],
                'exact_match': [exact_match(p, r) for p, r in zip(predictions, references)]}


def token_f1(prediction, gold):
    pred, ref = answer_tokens(prediction), answer_tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)
