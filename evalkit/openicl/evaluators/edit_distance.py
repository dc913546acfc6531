"""Normalised Levenshtein similarity, in percent."""
from .base import BaseEvaluator
from .text import as_text, gold_answers


class EditDistanceEvaluator(BaseEvaluator):
    """``edit_similarity``: ``1 - levenshtein(pred, gold) / max(len(pred), len(gold))`` on the
    stripped texts, compared by characters (the best over a list of gold answers); two empty
    texts are identical. In percent."""

    def __init__(self, bootstrap=0, seed=0):
        super().__init__(bootstrap=bootstrap, seed=seed)
        from rapidfuzz.distance import Levenshtein
        self.similarity = Levenshtein.normalized_similarity

    def sample_scores(self, predictions, references):
        return {'edit_similarity': [self.best(p, r) for p, r in zip(predictions, references)]}

    def best(self, prediction, reference):
        pred = as_text(prediction).strip()
        return max(self.similarity(pred, gold.strip()) for gold in gold_answers(reference))
