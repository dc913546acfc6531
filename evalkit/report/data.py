"""One run's outputs, read back from its work dir for the report pages and run comparison.

Everything comes from files a run leaves on disk: the summary CSV (the summarizer's own numbers,
groups and scores on contamination subsets included), ``results/<model>/<dataset>.json``
(per-sample ``details``), ``predictions/`` (prompts and raw answers), the resolved config
``configs/<ts>.py`` (dataset configs and summary groups) and any figure in ``summary/``.
"""
import ast
import csv
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from ..utils.errors import EvalkitError
from ..utils.fileio import read_json

RUN_NAME = re.compile(r'^\d{8}_\d{6}$')
MISSING = '-'
GROUP_METRICS = ('naive_average', 'weighted_average')
# Header of the subjective summarizer's CSV: one row per dataset, judge, model and metric.
SUBJECTIVE_HEADER = ['dataset', 'mode', 'judge', 'model', 'opponent', 'capability', 'metric', 'value']


@dataclass
class Value:
    """A score with its standard error (None when there is none)."""
    value: float
    stderr: float = None

    def text(self):
        return f'{self.value:.2f}' + ('' if self.stderr is None else f' ± {self.stderr:.2f}')


@dataclass
class Row:
    """A line of the summary table: a dataset, or a group averaging its subsets."""
    name: str
    version: str
    metric: str
    mode: str
    scores: dict                      # model abbr -> Value
    subsets: list = field(default_factory=list)   # a group's datasets; empty for a dataset
    part: bool = False    # a score on part of the dataset's samples (``accuracy - clean (n=17)``)

    @property
    def is_group(self):
        return bool(self.subsets) or self.metric in GROUP_METRICS

    @property
    def label(self):
        """Unique in a run: a part is named after its dataset and metric."""
        return f'{self.name} [{self.metric}]' if self.part else self.name


@dataclass
class Sample:
    """One scored question: what the model was asked, what it said, and how it was judged."""
    index: int
    prompt: list          # [(role, text)]; one ('', text) for a plain-text prompt
    options: list         # perplexity mode: [(label, ending text, negative log-likelihood)]
    prediction: str       # the raw answer
    answer: str           # after the post-processor
    gold: str
    correct: bool
    subset: str = None    # the contamination subset, when the evaluator labelled one


def is_run_dir(path):
    path = Path(path)
    return path.is_dir() and bool(RUN_NAME.match(path.name)) and (path / 'summary').is_dir()


def find_run(spec, work_dir='outputs/default'):
    """A run folder from a path, or from a timestamp under ``work_dir``."""
    path = Path(spec)
    if not path.is_dir():
        path = Path(work_dir, spec)
    if not path.is_dir():
        raise EvalkitError(f'{spec}: no such run folder (give a run path, or a timestamp under -w {work_dir})')
    if not (path / 'summary').is_dir():
        raise EvalkitError(f'{path}: not a finished run (no summary/ folder): run it to the end, or '
                           f'make its summary with: python run.py CONFIG -m viz -r {path.name}')
    return path


def read_resolved_config(path):
    """The plain values of a dumped config (``configs/<ts>.py``), read without running it."""
    try:
        tree = ast.parse(Path(path).read_text(encoding='utf-8'))
    except (OSError, SyntaxError, ValueError):
        return {}
    cfg = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                cfg[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError):
                continue
    return cfg


def _float(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


class Run:
    """A run folder, read lazily: the summary table first, samples only when asked for."""

    def __init__(self, path):
        self.path = Path(path)
        self.stamp = self.path.name
        self._results = {}

    # ------------------------------------------------------------------ what the run is
    @cached_property
    def config(self):
        configs = sorted((self.path / 'configs').glob('*.py'))
        own = self.path / 'configs' / f'{self.stamp}.py'
        return read_resolved_config(own if own.exists() else configs[-1]) if configs else {}

    @property
    def started(self):
        try:
            return datetime.strptime(self.stamp, '%Y%m%d_%H%M%S')
        except ValueError:
            return datetime.fromtimestamp(self.path.stat().st_mtime)

    @cached_property
    def summary_csv(self):
        own = self.path / 'summary' / f'summary_{self.stamp}.csv'
        found = sorted((self.path / 'summary').glob('summary_*.csv'), key=lambda p: p.stat().st_mtime)
        return own if own.exists() else (found[-1] if found else None)

    @cached_property
    def _table(self):
        if self.summary_csv is None:
            return [], []
        with open(self.summary_csv, encoding='utf-8', newline='') as f:
            lines = list(csv.reader(f))
        return (lines[0], lines[1:]) if lines else ([], [])

    @property
    def is_subjective(self):
        return self._table[0] == SUBJECTIVE_HEADER

    @cached_property
    def models(self):
        """Model abbrs, in the summary's column order (else the results folders)."""
        header = self._table[0]
        if header and not self.is_subjective:
            return [h for h in header[4:] if not h.endswith(' stderr')]
        if self.is_subjective:
            return list(dict.fromkeys(r['model'] for r in self.subjective_records))
        return sorted(p.name for p in (self.path / 'results').glob('*') if p.is_dir())

    @cached_property
    def rows(self):
        """The summary table as Rows: datasets, then groups (with their subsets)."""
        if self.is_subjective:
            return []
        header, lines = self._table
        columns = {h: i for i, h in enumerate(header)}
        groups = {g['name']: [s if isinstance(s, str) else s[0] for s in g['subsets']]
                  for g in self.summary_groups}
        rows, seen = [], set()
        for line in lines:
            scores = {}
            for model in self.models:
                value = _float(line[columns[model]])
                if value is not None:
                    scores[model] = Value(value, _float(line[columns.get(f'{model} stderr', -1)])
                                          if f'{model} stderr' in columns else None)
            # A dataset's name again, under its own row: the score on a part of its samples.
            rows.append(Row(line[0], line[1], line[2], line[3], scores, groups.get(line[0], []),
                            part=line[0] in seen))
            seen.add(line[0])
        return rows

    @property
    def dataset_rows(self):
        return [r for r in self.rows if not r.is_group and not r.part]

    @property
    def part_rows(self):
        """Scores on parts of the samples of a dataset, or of a group's datasets taken together."""
        return [r for r in self.rows if r.part]

    @property
    def group_rows(self):
        return [r for r in self.rows if r.is_group and not r.part]

    @cached_property
    def summary_groups(self):
        """The groups the summarizer used: the config's, else every built-in group whose subsets
        all ran (as the pipeline chooses them)."""
        summarizer = self.config.get('summarizer') or {}
        if 'summary_groups' in summarizer:
            return list(summarizer['summary_groups'] or [])
        from ..pipeline import default_groups
        return default_groups(self.config.get('datasets') or [])

    @cached_property
    def dataset_cfgs(self):
        return {d.get('abbr'): d for d in self.config.get('datasets') or [] if isinstance(d, dict)}

    # ------------------------------------------------------------------ per dataset
    def results(self, model, dataset):
        if (model, dataset) not in self._results:
            try:
                found = read_json(self.path / 'results' / model / f'{dataset}.json')
            except (OSError, ValueError):
                found = None
            self._results[(model, dataset)] = found if isinstance(found, dict) else None
        return self._results[(model, dataset)]

    def predictions(self, model, dataset):
        path = self.path / 'predictions' / model / f'{dataset}.json'
        try:
            return read_json(path)
        except (OSError, ValueError):
            return None

    def correctness(self, model, dataset):
        """Per sample, whether it was right (None where the evaluator does not say), or None
        when the dataset has no per-sample details."""
        details = (self.results(model, dataset) or {}).get('details')
        if not isinstance(details, list):
            return None
        return [sample_correct(d) for d in details]

    def samples(self, model, dataset, wrong_only=True):
        """The dataset's scored samples (by default the wrong ones) with prompt and answers."""
        results = self.results(model, dataset) or {}
        details = results.get('details')
        if not isinstance(details, list):
            return []
        records = self.predictions(model, dataset) or {}
        out = []
        for i, detail in enumerate(details):
            correct = sample_correct(detail)
            if wrong_only and correct is not False:
                continue
            record = records.get(str(i)) or {}
            prompt, options = split_prompt(record.get('origin_prompt', record.get('prompt')), record.get('ppl'))
            out.append(Sample(i, prompt, options, as_text(record.get('prediction')),
                              as_text(detail.get('pred')), as_text(detail.get('gold', record.get('gold'))),
                              correct, detail.get('contamination')))
        return out

    # ------------------------------------------------------------------ what other stages add
    @property
    def figures(self):
        """Images in summary/ (a needle-in-a-haystack heatmap, ...)."""
        return sorted(p for ext in ('png', 'svg', 'jpg') for p in (self.path / 'summary').glob(f'*.{ext}'))

    @cached_property
    def subjective_records(self):
        """Rows of a subjective summary as dicts (dataset, mode, judge, model, ..., value)."""
        if not self.is_subjective:
            return []
        return [dict(zip(SUBJECTIVE_HEADER, line)) for line in self._table[1]]


def sample_correct(detail):
    """True/False from a details entry's ``correct``; None where the evaluator does not say."""
    if not isinstance(detail, dict):
        return None
    return detail['correct'] if isinstance(detail.get('correct'), bool) else None


def as_text(value):
    if value is None:
        return ''
    if isinstance(value, list):
        return ' | '.join(as_text(v) for v in value)
    return str(value)


def split_prompt(prompt, nll=None):
    """(turns, options) for display: a chat prompt as its turns; a perplexity prompt (one text per
    option) as the context the options share, and each option's own ending with its score."""
    if isinstance(prompt, dict):
        labels = list(prompt)
        texts = [turns_text(prompt[k]) for k in labels]
        head = common_prefix(texts)
        nll = nll or {}
        options = [(k, t[len(head):], nll.get(k)) for k, t in zip(labels, texts)]
        return [('', head)], options
    if isinstance(prompt, list):
        return [(str(t.get('role', '')), as_text(t.get('content', t.get('prompt', ''))))
                if isinstance(t, dict) else ('', as_text(t)) for t in prompt], []
    return [('', as_text(prompt))], []


def turns_text(prompt):
    if isinstance(prompt, list):
        return '\n'.join(as_text(t.get('content', t.get('prompt'))) if isinstance(t, dict) else as_text(t)
                         for t in prompt)
    return as_text(prompt)


def common_prefix(texts):
    if not texts:
        return ''
    shortest = min(texts, key=len)
    for i, ch in enumerate(shortest):
        if any(t[i] != ch for t in texts):
            return shortest[:i]
    return shortest


def headline_scores(run):
    """{model: text}: each model's broadest group score (the one with the most subsets), else
    the mean of its dataset scores, else its first overall subjective result."""
    groups = sorted((g for g in run.group_rows if g.scores), key=lambda g: -len(g.subsets))
    if groups:
        g = groups[0]
        return {m: f'{g.name} {v.text()}' for m, v in g.scores.items()}
    out = {}
    for m in run.models:
        values = [r.scores[m].value for r in run.dataset_rows if m in r.scores]
        if values:
            out[m] = f'mean of {len(values)}: {sum(values) / len(values):.2f}'
    for record in run.subjective_records:
        if record['capability'] == 'overall' and record['metric'] in ('win_rate', 'score') \
                and record['model'] not in out:
            out[record['model']] = f'{record["dataset"]} {record["metric"].replace("_", " ")} {record["value"]}'
    return out


def list_runs(work_dir):
    """Run folders of a work dir, newest first."""
    base = Path(work_dir)
    return sorted((p for p in base.iterdir() if is_run_dir(p)), key=lambda p: p.name, reverse=True) \
        if base.is_dir() else []
