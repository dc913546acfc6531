"""Numeric answers: the number in a free-text prediction against the gold number, in percent."""
import math

from ...utils.errors import EvalkitError
from ..postprocessors import last_number
from .base import BaseEvaluator
from .text import as_text

REL_TOL = 1e-6
ABS_TOL = 1e-9   # so that a gold 0 matches a computed 1e-12


class NumericMatchEvaluator(BaseEvaluator):
    """``accuracy``: 1 when the prediction's number equals the gold number within a relative
    tolerance of 1e-6. In percent. Details add ``pred_number``, the number read (or None).

    The prediction may be free text: its number is the last one, read as ``last_number`` reads it
    (``\\boxed{}`` and ``####`` first; commas, currency, percent signs, units, minus signs,
    decimals and fractions handled). A prediction with no number is wrong. The reference is a
    number, or text read the same way, so GSM8K's "... #### 72" gives 72; a reference without a
    number is an error in the data.
    """

    correct_metric = 'accuracy'

    def sample_scores(self, predictions, references):
        golds = [gold_number(r, i) for i, r in enumerate(references)]
        return {'accuracy': [float(p is not None and math.isclose(p, g, rel_tol=REL_TOL, abs_tol=ABS_TOL))
                             for p, g in zip(map(as_number, predictions), golds)]}

    def sample_details(self, predictions, references, scores):
        details = super().sample_details(predictions, references, scores)
        for detail, pred in zip(details, predictions):
            detail['pred_number'] = as_number(pred)
        return details


def as_number(value):
    """A number as a float, or the answer number of a text (see ``last_number``); None if none."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    found = last_number(as_text(value))
    return None if found is None else float(found)


def gold_number(reference, row):
    value = as_number(reference)
    if value is None:
        raise EvalkitError(f'reference {row} has no number: {as_text(reference)[:80]!r} '
                           '(NumericMatchEvaluator needs a number, or text ending in one)')
    return value
