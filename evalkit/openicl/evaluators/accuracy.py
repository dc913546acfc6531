"""Accuracy: the share of predictions equal to the gold answer, in percent."""
from .base import BaseEvaluator


class AccEvaluator(BaseEvaluator):

    def score(self, predictions, references):
        if len(predictions) != len(references):
            return {'error': f'{len(predictions)} predictions but {len(references)} references'}
        if not references:
            return {'error': 'no rows to score'}
        correct = sum(str(p).strip() == str(r).strip() for p, r in zip(predictions, references))
        return {'accuracy': 100.0 * correct / len(references)}
