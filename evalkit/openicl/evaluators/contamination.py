"""Accuracy on each contamination subset of a dataset, beside the full score.

Given an annotation file that labels every sample ``clean``, ``input contaminated`` or
``input-and-label contaminated`` (``tools/contamination.py overlap`` writes one), the results hold
``accuracy`` on all samples as usual, then ``accuracy - <label>`` with its standard error and
``num_samples - <label>`` for each label that has samples. A sample the file does not label counts
under ``not labeled``. The summary shows the subsets as rows under the dataset's own.

OpenCompass's C-Eval annotation file (keys ``<subject>-<index>``, values ``[label, ...]``, as read
by its ``ceval_clean_ppl`` config) is read as well.
"""
import os

from ...utils.errors import EvalkitError
from ...utils.fileio import read_json
from ...utils.paths import resolve_data_path
from .accuracy import AccEvaluator

NOT_LABELED = 'not labeled'
SUBSET_ORDER = ('clean', 'input contaminated', 'input-and-label contaminated', NOT_LABELED)


def annotation_path(path):
    """An annotation file given in a config: absolute, relative to the working folder when it is
    there, else relative to the data root (as dataset paths are)."""
    path = os.path.expanduser(str(path))
    if os.path.isabs(path) or os.path.exists(path):
        return os.path.abspath(path)
    return str(resolve_data_path(path))


def sample_labels(path, dataset, name=None):
    """{sample index: label} of one dataset (by abbr, or by ``name`` in OpenCompass's file)."""
    file = annotation_path(path)
    if not os.path.isfile(file):
        raise EvalkitError(f'annotation file not found: {file} (make one with: python tools/contamination.py '
                           f'overlap --corpus FILES --dataset NAME --out {path})')
    data = read_json(file)
    if isinstance(data, dict) and 'datasets' in data:
        entry = data['datasets'].get(dataset)
        if entry is None:
            raise EvalkitError(f'{file} has no annotations for {dataset} (it covers '
                               f'{", ".join(list(data["datasets"])[:5]) or "nothing"}): annotate this dataset too')
        return {int(s['index']): s['label'] for s in entry['samples']}
    if isinstance(data, dict) and name:
        prefix = f'{name}-'
        return {int(k[len(prefix):]): (v[0] if isinstance(v, list) else v)
                for k, v in data.items() if k.startswith(prefix) and k[len(prefix):].isdigit()}
    raise EvalkitError(f'{file}: not an annotation file (write it with tools/contamination.py overlap)')


class ContaminationAccEvaluator(AccEvaluator):
    """``AccEvaluator`` plus accuracy per contamination subset.

    ``annotations``: the annotation file; ``dataset``: the dataset's abbr in it; ``name``: the
    subject, for OpenCompass's file. A sample's index is its position among the rows the dataset
    is scored on (its test split, after any ``test_range``), as the overlap tool writes it from the
    same dataset config."""

    @staticmethod
    def input_files(cfg):
        """The annotation file: its contents count toward the scores' fingerprint."""
        return [annotation_path(cfg['annotations'])]

    def __init__(self, annotations, dataset, name=None, bootstrap=0, seed=0):
        super().__init__(bootstrap=bootstrap, seed=seed)
        self.annotations = annotations
        self.dataset = dataset
        self.name = name

    def evaluate(self, predictions, references):
        labels = sample_labels(self.annotations, self.dataset, self.name)
        if labels and max(labels) >= len(references):
            raise EvalkitError(f'{self.annotations} annotates {max(labels) + 1} samples of {self.dataset} but '
                               f'{len(references)} were scored: annotate the same split and rows')
        scores = self.sample_scores(predictions, references)
        metrics = self.summarize(scores)
        details = self.sample_details(predictions, references, scores)
        per_sample = [labels.get(i, NOT_LABELED) for i in range(len(references))]
        present = [s for s in SUBSET_ORDER if s in per_sample] + \
            sorted({s for s in per_sample if s not in SUBSET_ORDER})
        for subset in present:
            members = [i for i, s in enumerate(per_sample) if s == subset]
            part = self.summarize({f'{m} - {subset}': [v[i] for i in members] for m, v in scores.items()})
            metrics.update(part)
            metrics[f'num_samples - {subset}'] = len(members)
        for detail, subset in zip(details, per_sample):
            detail['contamination'] = subset
        return metrics, details
