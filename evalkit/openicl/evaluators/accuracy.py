"""Accuracy: the share of predictions equal to a gold answer (after stripping spaces), in percent."""
from .base import BaseEvaluator
from .text import as_text, gold_answers


class AccEvaluator(BaseEvaluator):
    """``accuracy``: 1 for a prediction equal to the gold answer (or to one of a list of them),
    compared as strings with surrounding whitespace stripped; reported in percent."""

    correct_metric = 'accuracy'

    def sample_scores(self, predictions, references):
        return {'accuracy': [float(as_text(p).strip() in {g.strip() for g in gold_answers(r)})
                             for p, r in zip(predictions, references)]}
