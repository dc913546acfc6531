"""An evaluator turns post-processed predictions and gold answers into metrics."""


class BaseEvaluator:

    def score(self, predictions, references):
        """A dict of metric name -> value (percentages for accuracies)."""
        raise NotImplementedError
