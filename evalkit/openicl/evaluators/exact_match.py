"""Exact match after SQuAD-style normalisation, in percent."""
from .base import BaseEvaluator
from .text import answer_tokens, gold_answers


class ExactMatchEvaluator(BaseEvaluator):
    """``exact_match``: 1 when the prediction equals a gold answer once both are normalised
    (case, punctuation including Chinese full-width punctuation, the articles a/an/the, and
    whitespace, as in SQuAD); a reference may be a list of acceptable answers. In percent."""

    correct_metric = 'exact_match'

    def sample_scores(self, predictions, references):
        return {'exact_match': [exact_match(p, r) for p, r in zip(predictions, references)]}


def exact_match(prediction, reference):
    tokens = answer_tokens(prediction)
    return float(any(tokens == answer_tokens(gold) for gold in gold_answers(reference)))
