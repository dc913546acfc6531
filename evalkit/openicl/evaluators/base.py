"""An evaluator turns post-processed predictions and gold answers into metrics with error bars.

Most evaluators only say how one sample scores (``sample_scores``); ``BaseEvaluator.score`` then
reports every metric's mean, the standard error of that mean, and, when built with
``bootstrap=N``, a 95% percentile-bootstrap interval. Corpus-level metrics, which are not a mean
of sample scores (BLEU), derive from ``CorpusEvaluator`` instead.
"""
import math

import numpy as np

from ...utils.errors import EvalkitError

# Resampled indices are drawn in chunks of at most this many entries, to bound memory.
_CHUNK_ENTRIES = 2_000_000


class BaseEvaluator:
    """Scores predictions against references.

    ``score(predictions, references)`` returns, for every metric ``m`` of ``sample_scores``:

    - ``m``: the mean over samples. Sample scores are fractions in 0..1 (accuracy, exact_match,
      f1, rouge*, edit_similarity, pass@k) and are reported in percent; metrics named in
      ``raw_metrics`` keep their own unit.
    - ``m_stderr``: standard error of the mean, ``std(ddof=1) / sqrt(n)``, in the same unit
      (None for a single sample).
    - ``m_ci95``: ``[low, high]``, the 2.5th and 97.5th percentiles of the mean over ``bootstrap``
      resamples of the samples (only when ``bootstrap > 0``; the resampling is seeded by ``seed``).

    and then ``num_samples`` and ``details``, one dict per sample: ``pred``, ``gold``, the sample's
    score for each metric (in percent, as the mean), and ``correct`` (bool) for evaluators whose
    ``correct_metric`` says a sample is right or wrong.

    Problems with the input (different lengths, no rows, a reference that cannot be read) come
    back as ``{'error': message}``.
    """

    raw_metrics = ()
    correct_metric = None
    bootstrap, seed = 0, 0   # also for subclasses whose __init__ does not call this one

    def __init__(self, bootstrap=0, seed=0):
        if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
            raise EvalkitError(f'bootstrap={bootstrap!r}: give the number of bootstrap resamples '
                               '(an integer, e.g. 1000), or 0 for none')
        self.bootstrap = bootstrap
        self.seed = seed

    # ------------------------------------------------------------------ what subclasses define
    def sample_scores(self, predictions, references):
        """{metric name: one score per sample}, each score in 0..1 unless in ``raw_metrics``."""
        raise NotImplementedError

    def evaluate(self, predictions, references):
        """(metrics, details) for rows already checked to be non-empty and of equal length.

        Evaluators whose details need more than the scores (the outcome of running code)
        override this and summarise their scores with ``summarize``."""
        scores = self.sample_scores(predictions, references)
        return self.summarize(scores), self.sample_details(predictions, references, scores)

    # ------------------------------------------------------------------ the common part
    def score(self, predictions, references):
        predictions, references = list(predictions), list(references)
        if len(predictions) != len(references):
            return {'error': f'{len(predictions)} predictions but {len(references)} references: '
                             'they must pair up one to one'}
        if not references:
            return {'error': 'no rows to score'}
        try:
            metrics, details = self.evaluate(predictions, references)
        except EvalkitError as exc:
            return {'error': str(exc)}
        return {**metrics, 'num_samples': len(references), 'details': details}

    def scale(self, metric):
        return 1.0 if metric in self.raw_metrics else 100.0

    def summarize(self, scores):
        """Mean, standard error and (with bootstrap) interval of each metric's sample scores."""
        result = {}
        for metric, values in scores.items():
            values = np.asarray(values, dtype=float)
            scale = self.scale(metric)
            result[metric] = float(values.mean() * scale)
            result[f'{metric}_stderr'] = (float(values.std(ddof=1) / math.sqrt(len(values)) * scale)
                                          if len(values) > 1 else None)
            if self.bootstrap:
                means = np.concatenate([values[idx].mean(axis=1) for idx in self.resamples(len(values))])
                result[f'{metric}_ci95'] = percentile_interval(means * scale)
        return result

    def sample_details(self, predictions, references, scores):
        details = []
        for i, (pred, gold) in enumerate(zip(predictions, references)):
            detail = {'pred': pred, 'gold': gold}
            detail.update({m: float(v[i]) * self.scale(m) for m, v in scores.items()})
            if self.correct_metric:
                detail['correct'] = bool(scores[self.correct_metric][i] == 1)
            details.append(detail)
        return details

    def resamples(self, n, width=1):
        """Bootstrap index arrays (rounds x n) in chunks of about ``_CHUNK_ENTRIES`` values of
        ``width`` each; seeded, so every metric of a run sees the same resamples."""
        rng = np.random.default_rng(self.seed)
        per_chunk = max(1, _CHUNK_ENTRIES // (n * width))
        left = self.bootstrap
        while left:
            rounds = min(left, per_chunk)
            yield rng.integers(0, n, size=(rounds, n))
            left -= rounds


class CorpusEvaluator(BaseEvaluator):
    """A metric computed over the whole corpus from summed per-sample statistics (BLEU).

    Such a metric is not a mean of sample scores, so it has no analytic standard error:
    ``m_stderr`` is the standard deviation of the metric over bootstrap resamples when
    ``bootstrap > 0`` (with ``m_ci95`` their percentile interval), and None otherwise.
    Corpus metrics are reported in their own unit (BLEU is already 0..100).
    """

    def sample_stats(self, predictions, references):
        """An (n, k) array of per-sample sufficient statistics, summed over the corpus."""
        raise NotImplementedError

    def corpus_metrics(self, totals):
        """{metric name: value} from the column sums of ``sample_stats``."""
        raise NotImplementedError

    def evaluate(self, predictions, references):
        stats = np.asarray(self.sample_stats(predictions, references), dtype=float)
        replicas = [self.corpus_metrics(totals)
                    for idx in self.resamples(len(stats), width=stats.shape[1])
                    for totals in stats[idx].sum(axis=1)] if self.bootstrap else []
        result = {}
        for metric, value in self.corpus_metrics(stats.sum(axis=0)).items():
            spread = np.array([replica[metric] for replica in replicas])
            result[metric] = float(value)
            result[f'{metric}_stderr'] = float(spread.std(ddof=1)) if len(spread) > 1 else None
            if self.bootstrap:
                result[f'{metric}_ci95'] = percentile_interval(spread)
        details = [{'pred': pred, 'gold': gold} for pred, gold in zip(predictions, references)]
        return result, details


def percentile_interval(values):
    low, high = np.percentile(values, [2.5, 97.5])
    return [float(low), float(high)]
