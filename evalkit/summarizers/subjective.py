"""The summary of a subjective evaluation, from the judgements in ``results/``.

Score mode: each model's mean rating per capability (the dataset's categories), per group of
capabilities where the dataset defines groups (AlignBench's 中文推理 and 中文语言; their mean is
its 总分), overall (the mean of every parsed rating), per judged dimension where the judge gave
some (AlignBench), and the number of judgements that held no usable rating.

Compare mode: for each pair, the compared model against its opponent (the base model in ``m2n``,
the first of the pair otherwise): wins, ties and losses per capability and overall, its win rate
(wins plus half the ties, over the parsed verdicts, in percent), the unparseable verdicts, and
with ``infer_order='double'`` the judge's position-bias rate: of the questions judged in both
orders with a decisive verdict both times, the share where the judge chose the same position
(first or second) both times, that is, a different answer depending on the order.

Written to ``summary/summary_<ts>.{txt,md,csv}``: the text and markdown hold one table per
dataset, the CSV one row per dataset, judge, model, capability and metric.
"""
import csv
import io
from collections import defaultdict
from pathlib import Path

from tabulate import tabulate

from ..config import dataset_abbr, model_abbr
from ..utils.fileio import atomic_write_text, read_json
from ..utils.logging import get_logger

logger = get_logger()
MISSING = '-'
OVERALL = 'overall'


# ------------------------------------------------------------------ statistics of judgements

def score_stats(details):
    """Mean rating and counts of a list of score-mode judgements."""
    scores = [d['score'] for d in details if d.get('score') is not None]
    return {'score': sum(scores) / len(scores) if scores else None, 'judged': len(scores),
            'unparsed': len(details) - len(scores), 'num_samples': len(details)}


def compare_stats(details, model, opponent):
    """``model``'s record against ``opponent`` in a list of compare-mode judgements."""
    winners = [d.get('winner') for d in details]
    wins, ties = winners.count(model), winners.count('tie')
    losses = winners.count(opponent)
    judged = wins + ties + losses
    stats = {'win_rate': 100 * (wins + 0.5 * ties) / judged if judged else None, 'wins': wins, 'ties': ties,
             'losses': losses, 'judged': judged, 'unparsed': len(details) - judged, 'num_samples': len(details)}
    bias = position_bias(details)
    if bias is not None:
        stats['position_bias_rate'], stats['position_bias_questions'] = bias
    return stats


def position_bias(details):
    """(rate in percent, questions counted) over the questions judged in both orders, or None when
    no question was: a question counts when both verdicts are decisive (A or B, no tie)."""
    verdicts = defaultdict(list)
    for d in details:
        verdicts[d['row']].append(d.get('verdict'))
    both = [v for v in verdicts.values() if len(v) == 2]
    if not both:
        return None
    decisive = [v for v in both if all(x in ('A', 'B') for x in v)]
    same = sum(v[0] == v[1] for v in decisive)
    return (100 * same / len(decisive) if decisive else None), len(decisive)


def by_capability(details):
    groups = defaultdict(list)
    for d in details:
        groups[d.get('capability') or 'general'].append(d)
    return groups


def dimension_means(details):
    """Mean of every dimension the judge scored, over the judgements with a usable rating."""
    sums, counts = defaultdict(float), defaultdict(int)
    for d in details:
        if d.get('score') is None:
            continue
        for name, value in (d.get('dimensions') or {}).items():
            sums[name] += value
            counts[name] += 1
    return {name: sums[name] / counts[name] for name in sums}


# ------------------------------------------------------------------ the summary

def _number(value):
    return MISSING if value is None else f'{value:.2f}' if isinstance(value, float) else str(value)


class SubjectiveSummarizer:
    """``capability_groups``: {group: [capabilities]}, each group's mean rating is the mean of its
    capabilities'; ``groups_mean``: the name of the mean of the groups, if wanted. A dataset's own
    come from its ``summarizer=dict(capability_groups=..., groups_mean=...)`` setting."""

    def __init__(self, capability_groups=None, groups_mean=None, **unused):
        self.capability_groups = capability_groups or {}
        self.groups_mean = groups_mean

    def summarize(self, jobs, work_dir, timestamp):
        """``jobs``: (dataset config, [models judged], judge config) as the partitioner made them."""
        from ..partitioners.subjective import judge_settings
        from ..tasks.subjective_eval import judgement_path
        sections, records = [], []
        for abbr, group in _by_dataset(jobs).items():
            settings = judge_settings(group[0][0])
            own = settings.get('summarizer') or {}
            groups = dict(self.capability_groups, **(own.get('capability_groups') or {}))
            groups_mean = own.get('groups_mean', self.groups_mean)
            results = []
            for dataset_cfg, candidates, judge_cfg in group:
                path = judgement_path(work_dir, candidates, judge_cfg, dataset_cfg)
                if not path.exists():
                    logger.warning('summary: no judgements at %s (see logs/subjective_eval)', path)
                    continue
                results.append((candidates, judge_cfg, read_json(path)['details']))
            if not results:
                continue
            if len(group[0][1]) == 1:
                header, rows, found = self._score_table(abbr, results, groups, groups_mean)
            else:
                header, rows, found = self._compare_table(abbr, results)
            sections.append((f'{abbr} ({settings.get("mode")})', header, rows))
            records += found
        return self.write(sections, records, work_dir, timestamp)

    @staticmethod
    def _score_table(abbr, results, groups, groups_mean):
        """Rows: capabilities, groups, overall, dimensions, unparsed; a column per model and judge."""
        columns, records, cells = [], [], {}
        capabilities = []
        for candidates, judge_cfg, details in results:
            column = f'{model_abbr(candidates[0])}_judged-by--{model_abbr(judge_cfg)}'
            columns.append(column)
            per = by_capability(details)
            capabilities += [c for c in per if c not in capabilities]
            values = {c: score_stats(d)['score'] for c, d in per.items()}
            for name, members in groups.items():
                values[name] = _mean([values.get(c) for c in members])
            if groups and groups_mean:
                values[groups_mean] = _mean([values[g] for g in groups])
            overall = score_stats(details)
            values[OVERALL] = overall['score']
            values.update({f'dimension: {k}': v for k, v in dimension_means(details).items()})
            values['unparsed'] = overall['unparsed']
            for key, value in values.items():
                cells[(key, column)] = value
                records.append([abbr, 'singlescore', model_abbr(judge_cfg), model_abbr(candidates[0]), '',
                                key, 'count' if key == 'unparsed' else 'score', _number(value)])
        order = capabilities + [k for k in dict.fromkeys(k for k, _ in cells)
                                if k not in capabilities and k not in (OVERALL, 'unparsed')
                                and not k.startswith('dimension: ')]
        order += [OVERALL] + sorted({k for k, _ in cells if k.startswith('dimension: ')}) + ['unparsed']
        rows = [[key] + [_number(cells.get((key, c))) for c in columns] for key in order]
        return ['capability'] + columns, rows, records

    @staticmethod
    def _compare_table(abbr, results):
        """A row per pair and capability: the compared model's wins, ties, losses and win rate."""
        header = ['model', 'opponent', 'judge', 'capability', 'win', 'tie', 'loss', 'unparsed', 'win rate',
                  'position bias']
        rows, records = [], []
        for candidates, judge_cfg, details in results:
            opponent, model = (model_abbr(m) for m in candidates)
            judge = model_abbr(judge_cfg)
            per = by_capability(details)
            for capability, members in list(per.items()) + [(OVERALL, details)]:
                stats = compare_stats(members, model, opponent)
                bias = stats.get('position_bias_rate') if capability == OVERALL else None
                rows.append([model, opponent, judge, capability, stats['wins'], stats['ties'], stats['losses'],
                             stats['unparsed'], _number(stats['win_rate']),
                             _number(bias) if 'position_bias_rate' in stats and capability == OVERALL else ''])
                for key in ('win_rate', 'wins', 'ties', 'losses', 'unparsed'):
                    records.append([abbr, 'compare', judge, model, opponent, capability, key, _number(stats[key])])
                if capability == OVERALL and 'position_bias_rate' in stats:
                    records.append([abbr, 'compare', judge, model, opponent, capability, 'position_bias_rate',
                                    _number(bias)])
        return header, rows, records

    @staticmethod
    def write(sections, records, work_dir, timestamp):
        out = Path(work_dir, 'summary')
        text = '\n\n'.join(f'{title}\n' + tabulate(rows, headers=header, tablefmt='plain', disable_numparse=True)
                           for title, header, rows in sections) or 'no judgements to summarize'
        markdown = '\n\n'.join(f'## {title}\n\n' + tabulate(rows, headers=header, tablefmt='github',
                                                            disable_numparse=True)
                               for title, header, rows in sections) or 'no judgements to summarize'
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator='\n')
        writer.writerow(['dataset', 'mode', 'judge', 'model', 'opponent', 'capability', 'metric', 'value'])
        writer.writerows(records)
        paths = {}
        for ext, body in (('txt', text), ('md', markdown), ('csv', buffer.getvalue())):
            paths[ext] = out / f'summary_{timestamp}.{ext}'
            atomic_write_text(paths[ext], body.rstrip('\n') + '\n')
        return text, paths


def _mean(values):
    """The mean, or None when a value is missing (a group lacking one of its capabilities)."""
    return sum(values) / len(values) if values and None not in values else None


def _by_dataset(jobs):
    grouped = {}
    for dataset_cfg, candidates, judge_cfg in jobs:
        grouped.setdefault(dataset_abbr(dataset_cfg), []).append((dataset_cfg, candidates, judge_cfg))
    return grouped


# OpenCompass's per-benchmark summarizer names, for configs written for it: one summary serves all.
AlignmentBenchSummarizer = MTBenchSummarizer = AlpacaSummarizer = CompassArenaSummarizer = SubjectiveSummarizer
