"""The summary table: one row per dataset and group, one column per model.

Columns: dataset, version (hash of the prompt and inference config), metric, mode (gen or ppl),
then each model's score with its standard error (``25.28 ± 3.10``; the CSV gives the error a
column of its own) and, when scored with ``--bootstrap``, the 95% interval. Groups
(``summary_groups``) average their subsets' scores, plainly or with ``weights``; their error is
pooled from the subsets' errors, sqrt(sum((w_i * se_i)^2)) / sum(w_i), as the subsets are
independent samples. A missing score shows as ``-``, and the log says why. A dataset also scored
on parts of its samples (``accuracy - clean``, from an annotated clean-subset evaluation) gets one
row per part, with its sample count, under its own row; a group gets the same rows, each pooling
the samples of that part over the group's datasets.
"""
import csv
import io
import math
from pathlib import Path
from typing import NamedTuple

from tabulate import tabulate

from ..config import dataset_abbr, dataset_version, model_abbr
from ..registry import resolve
from ..tasks.base import predictions_path, results_path
from ..utils.fileio import atomic_write_text, read_json
from ..utils.logging import get_logger

logger = get_logger()
MISSING = '-'


class Score(NamedTuple):
    metric: str
    value: float
    stderr: float = None
    ci95: tuple = None

    def cell(self):
        text = f'{self.value:.2f}'
        if self.stderr is not None:
            text += f' ± {self.stderr:.2f}'
        if self.ci95 is not None:
            text += f' [{self.ci95[0]:.2f}, {self.ci95[1]:.2f}]'
        return text


def headline(metrics):
    """The Score of a results dict: its first numeric metric, with that metric's error and interval."""
    for key, value in metrics.items():
        if key == 'num_samples' or key.endswith(('_stderr', '_ci95')) or isinstance(value, bool) \
                or not isinstance(value, (int, float)):
            continue
        stderr = metrics.get(f'{key}_stderr')
        ci95 = metrics.get(f'{key}_ci95')
        return Score(key, float(value), float(stderr) if isinstance(stderr, (int, float)) else None,
                     tuple(ci95) if isinstance(ci95, (list, tuple)) and len(ci95) == 2 else None)
    return None


def subset_scores(metrics, headline_metric):
    """{subset metric: (Score, sample count)} for scores of the headline metric on parts of the
    samples, named ``<metric> - <subset>`` (``accuracy - clean``), in the order they appear."""
    prefix = headline_metric + ' - '
    out = {}
    for key in metrics:
        if key.startswith(prefix) and not key.endswith(('_stderr', '_ci95')):
            score = headline({key: metrics[key], **{k: v for k, v in metrics.items() if k.startswith(key + '_')}})
            if score is not None:
                out[key] = (score, metrics.get('num_samples' + key[len(headline_metric):]))
    return out


def dataset_mode(dataset_cfg):
    inferencer = (dataset_cfg.get('infer_cfg') or {}).get('inferencer') or {}
    cls = resolve(inferencer.get('type')) if inferencer.get('type') else None
    return getattr(cls, 'mode', None) or MISSING


class DefaultSummarizer:

    def __init__(self, dataset_abbrs=None, summary_groups=None, **unused):
        self.dataset_abbrs = dataset_abbrs
        self.summary_groups = summary_groups or []

    def _scores(self, models, datasets, work_dir):
        """{(dataset abbr, model abbr): Score} for every result on disk; the scores on subsets of
        a dataset's samples go to ``self.subsets`` under the same key."""
        scores, missing = {}, {}
        self.subsets = {}
        for m in models:
            for d in datasets:
                path = results_path(work_dir, m, d)
                if not path.exists():
                    reason = ('unlabelled split, predictions only'
                              if predictions_path(work_dir, m, d).exists() else 'no predictions')
                    missing.setdefault((model_abbr(m), reason), []).append(dataset_abbr(d))
                    continue
                metrics = read_json(path)
                score = headline(metrics)
                if score is not None:
                    scores[(dataset_abbr(d), model_abbr(m))] = score
                    self.subsets[(dataset_abbr(d), model_abbr(m))] = subset_scores(metrics, score.metric)
        # One line per model and reason, however many datasets it concerns.
        for (model, reason), abbrs in missing.items():
            shown = ', '.join(abbrs[:3]) + (f' and {len(abbrs) - 3} more' if len(abbrs) > 3 else '')
            logger.warning('summary: %s has no score for %s (%s)', model, shown, reason)
        return scores

    def _group_rows(self, model_names, scores, by_abbr):
        rows = []
        for group in self.summary_groups:
            subsets = [s if isinstance(s, str) else s[0] for s in group['subsets']]
            weights = group.get('weights') or {}
            present = [s for s in subsets if s in by_abbr]
            if not present:
                continue
            modes = {dataset_mode(by_abbr[s]) for s in present}
            row = [group['name'], MISSING, 'naive_average' if not weights else 'weighted_average',
                   modes.pop() if len(modes) == 1 else 'mixed']
            for name in model_names:
                values = [scores.get((s, name)) for s in subsets]
                missing = [s for s, v in zip(subsets, values) if v is None]
                if missing:
                    logger.warning('summary: group %s for %s lacks %d subset(s), e.g. %s',
                                   group['name'], name, len(missing), missing[0])
                    row.append(MISSING)
                    continue
                w = [weights.get(s, 1) for s in subsets]
                mean = sum(v.value * x for v, x in zip(values, w)) / sum(w)
                pooled = (math.sqrt(sum((v.stderr * x) ** 2 for v, x in zip(values, w))) / sum(w)
                          if all(v.stderr is not None for v in values) else None)
                row.append(Score(row[2], mean, pooled))
            rows.append(row)
            # A group is itself a subset other groups can name.
            for name, value in zip(model_names, row[4:]):
                if value != MISSING:
                    scores[(group['name'], name)] = value
                    self.subsets[(group['name'], name)] = self._pooled_subsets(subsets, name)
            rows += self._subset_rows(group['name'], MISSING, row[3], model_names)
            by_abbr.setdefault(group['name'], {})
        return rows

    def _pooled_subsets(self, members, name):
        """A group's scores on sample subsets: the members' samples of each subset taken together
        (a mean over samples, not over members, as a member may have none in a subset), with the
        standard error of that pooled mean, rebuilt from each member's mean, error and count."""
        parts = {}
        for member in members:
            for metric, (score, count) in self.subsets.get((member, name), {}).items():
                if count:
                    parts.setdefault(metric, []).append((score, count))
        pooled = {}
        for metric, items in parts.items():
            total = sum(c for _, c in items)
            mean = sum(s.value * c for s, c in items) / total
            stderr = None
            if total > 1 and all(s.stderr is not None or c == 1 for s, c in items):
                # Sum of squares about the pooled mean: within each member, then between them.
                squares = sum((s.stderr or 0.0) ** 2 * c * (c - 1) + c * (s.value - mean) ** 2 for s, c in items)
                stderr = math.sqrt(squares / (total - 1) / total)
            pooled[metric] = (Score(metric, mean, stderr), total)
        return pooled

    def _subset_rows(self, abbr, version, mode, model_names):
        """A row per subset of the dataset's samples (``accuracy - clean (n=17)``), under its row."""
        names = {}
        for n in model_names:
            for metric, (_, count) in self.subsets.get((abbr, n), {}).items():
                names.setdefault(metric, count)
        rows = []
        for metric, count in names.items():
            label = metric if count is None else f'{metric} (n={count})'
            cells = [self.subsets.get((abbr, n), {}).get(metric, (MISSING,))[0] for n in model_names]
            rows.append([abbr, version, label, mode] + cells)
        return rows

    def summarize(self, models, datasets, work_dir, timestamp):
        model_names = [model_abbr(m) for m in models]
        scores = self._scores(models, datasets, work_dir)
        by_abbr = {dataset_abbr(d): d for d in datasets}
        order = self.dataset_abbrs or list(by_abbr)
        header = ['dataset', 'version', 'metric', 'mode'] + model_names
        rows = []
        for abbr in order:
            if abbr not in by_abbr:
                continue
            d = by_abbr[abbr]
            metrics = {scores[(abbr, n)].metric for n in model_names if (abbr, n) in scores}
            row = [abbr, dataset_version(d), metrics.pop() if len(metrics) == 1 else MISSING, dataset_mode(d)]
            row += [scores.get((abbr, n), MISSING) for n in model_names]
            rows.append(row)
            rows += self._subset_rows(abbr, row[1], row[3], model_names)
        rows += self._group_rows(model_names, scores, by_abbr)
        return self.write(header, rows, work_dir, timestamp)

    @staticmethod
    def csv_rows(header, rows):
        """The CSV: each model's score, then its standard error in a column of its own."""
        names = header[4:]
        out = [header[:4] + [c for n in names for c in (n, f'{n} stderr')]]
        for row in rows:
            cells = row[:4]
            for value in row[4:]:
                if value == MISSING:
                    cells += [MISSING, '']
                else:
                    cells += [f'{value.value:.2f}', '' if value.stderr is None else f'{value.stderr:.2f}']
            out.append(cells)
        return out

    def write(self, header, rows, work_dir, timestamp):
        out = Path(work_dir, 'summary')
        shown = [[v.cell() if isinstance(v, Score) else v for v in row] for row in rows]
        text = tabulate(shown, headers=header, tablefmt='plain', disable_numparse=True)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator='\n').writerows(self.csv_rows(header, rows))
        markdown = tabulate(shown, headers=header, tablefmt='github', disable_numparse=True)
        paths = {}
        for ext, body in (('txt', text), ('csv', buffer.getvalue()), ('md', markdown)):
            paths[ext] = out / f'summary_{timestamp}.{ext}'
            atomic_write_text(paths[ext], body.rstrip('\n') + '\n')
        return text, paths
