"""``summary/report.html``: one run's page.

The summary table, a chart and a sortable table per dataset group, the subset metrics of
contamination analysis, subjective judgements and the figures other summarizers left in
``summary/``; each dataset links to the samples a model got wrong (``#errors/<dataset>``).
"""
from collections import defaultdict
from pathlib import Path

from ..utils.fileio import atomic_write_text
from . import charts
from .data import Run, Value, common_prefix
from .html import cell, esc, figure, image_figure, json_block, page, score_cell, table

REPORT_NAME = 'report.html'


def report_path(run_dir):
    return Path(run_dir, 'summary', REPORT_NAME)


def write_report(run_dir):
    """Write the run's report page; returns its path."""
    path = report_path(run_dir)
    atomic_write_text(path, render(Run(run_dir)))
    return path


def render(run):
    colours = charts.model_colours(run.models)
    samples = samples_data(run)
    linked = {abbr for abbr, per_model in samples['datasets'].items() if per_model}
    parts = [header(run)]
    if run.rows:
        parts.append(summary_section(run, linked))
        parts.append(group_sections(run, colours, samples, linked))
        parts.append(contamination_section(run, colours))
    if run.is_subjective:
        parts.append(subjective_section(run))
    parts.append(figures_section(run))
    if not run.rows and not run.is_subjective:
        parts.append('<p>No scores in this run yet: its summary is empty.</p>')
    extra = json_block('samples', samples) if linked else ''
    return page(f'evalkit report {run.stamp}', ''.join(parts), extra)


def header(run):
    datasets = len(run.dataset_rows) or len({r['dataset'] for r in run.subjective_records})
    return (f'<p class="note"><a href="../../index.html">all runs</a></p>'
            f'<h1>Run {esc(run.stamp)}</h1>'
            f'<p class="meta">started {esc(run.started.strftime("%Y-%m-%d %H:%M:%S"))} · '
            f'{len(run.models)} model(s): {esc(", ".join(run.models))} · {datasets} dataset(s) · '
            f'<span class="note">{esc(run.path)}</span></p>')


def dataset_link(abbr, linked):
    if abbr in linked:
        return cell(f'<a href="#errors/{esc(abbr)}">{esc(abbr)}</a>', sort=abbr, raw=True)
    return cell(abbr)


def summary_section(run, linked):
    rows = [[cell(r.name, cls='part') if r.part else dataset_link(r.name, linked), cell(r.version),
             cell(r.metric), cell(r.mode)]
            + [score_cell(r.scores.get(m)) for m in run.models] for r in run.rows]
    classes = ['part' if r.part else 'group' if r.is_group else '' for r in run.rows]
    return ('<h2>Summary</h2><p class="note">Score ± standard error. Groups average their subsets, '
            'their error pooled from the subsets\'. Click a dataset for the samples answered wrongly, '
            'a column heading to sort.</p>'
            + table(['dataset', 'version', 'metric', 'mode'] + run.models, rows, cls='summary',
                    row_classes=classes))


def charted_groups(groups):
    """Groups worth a chart of their own: not those whose every subset is already shown in a
    smaller group (the overall average of a benchmark's categories)."""
    kept = []
    for g in groups:
        others = [o for o in groups if o is not g and len(o.subsets) < len(g.subsets)]
        if not all(any(s in o.subsets for o in others) for s in g.subsets):
            kept.append(g)
    return kept


def group_sections(run, colours, samples, linked):
    by_name = {r.name: r for r in run.rows if not r.part}
    groups = [g for g in run.group_rows if g.subsets]
    parts = []
    if run.group_rows:
        names = [g.name for g in run.group_rows]
        scores = {(g.name, m): v for g in run.group_rows for m, v in g.scores.items()}
        parts.append('<h2>Groups</h2>' + figure(charts.score_bars(
            'group averages', names, run.models, scores, colours), 'bars: score; whiskers: ± standard error'))
    grouped = {s for g in groups for s in g.subsets}
    sections = [(g.name, [s for s in g.subsets if s in by_name]) for g in charted_groups(groups)]
    ungrouped = [r.name for r in run.dataset_rows if r.name not in grouped]
    if ungrouped:
        sections.append(('datasets in no group' if groups else 'datasets', ungrouped))
    for title, subsets in sections:
        scores = {(s, m): v for s in subsets for m, v in by_name[s].scores.items()}
        chart = figure(charts.score_bars(title, subsets, run.models, scores, colours)) if scores else ''
        parts.append(f'<h3>{esc(title)}</h3>' + chart + subsets_table(run, subsets, by_name, samples, linked))
    return ''.join(parts)


def subsets_table(run, subsets, by_name, samples, linked):
    """One row per subset: its size, and each model's score and number of wrong answers."""
    header = ['dataset', 'samples'] + [h for m in run.models for h in (m, f'{m} wrong')]
    rows = []
    for name in subsets:
        per_model = samples['datasets'].get(name, {})
        sizes = [e['total'] for e in per_model.values()]
        cells = [dataset_link(name, linked), cell(sizes[0] if sizes else '-', sort=sizes[0] if sizes else '',
                                                  cls='num')]
        for m in run.models:
            entry = per_model.get(m)
            wrong = len(entry['wrong']) if entry and entry['marked'] else None
            cells += [score_cell(by_name[name].scores.get(m)),
                      cell('-' if wrong is None else wrong, sort='' if wrong is None else wrong, cls='num')]
        rows.append(cells)
    return table(header, rows)


def contamination_section(run, colours):
    """A dataset scored on parts of its samples (clean and contaminated subsets): the parts beside
    the whole, as a chart and a table."""
    parts = run.part_rows
    if not parts:
        return ''
    whole = {r.name: r for r in run.rows if not r.part}
    labels, scores, rows = [], {}, []
    for name in dict.fromkeys(p.name for p in parts if p.name in whole):
        for row in [whole[name]] + [p for p in parts if p.name == name]:
            label = f'{name}: {row.metric}' if row.part else f'{name}: all samples'
            labels.append(label)
            scores.update({(label, m): v for m, v in row.scores.items()})
            rows.append([cell(name), cell(row.metric if row.part else f'{row.metric} (all samples)')]
                        + [score_cell(row.scores.get(m)) for m in run.models])
    return ('<h2>Contamination subsets</h2><p class="note">Each dataset scored again on the parts of its '
            'samples that the annotation file marks clean or contaminated: a score that holds on the '
            'clean part is not explained by test data seen in training.</p>'
            + figure(charts.score_bars('by contamination subset', labels, run.models, scores, colours))
            + table(['dataset', 'metric'] + run.models, rows))


def subjective_section(run):
    """Judged datasets: a table per dataset, and the overall win rate or score as a chart."""
    by_dataset = defaultdict(list)
    for record in run.subjective_records:
        by_dataset[record['dataset']].append(record)
    parts = ['<h2>Subjective evaluation</h2>']
    for dataset, records in by_dataset.items():
        keys = list(dict.fromkeys((r['model'], r['opponent'], r['judge'], r['capability']) for r in records))
        metrics = list(dict.fromkeys(r['metric'] for r in records))
        values = {(r['model'], r['opponent'], r['judge'], r['capability'], r['metric']): r['value']
                  for r in records}
        rows = [[cell(v) for v in key] + [value_cell(values.get(key + (m,), '')) for m in metrics]
                for key in keys]
        headline = 'win_rate' if 'win_rate' in metrics else 'score'
        series = list(dict.fromkeys(series_name(k) for k in keys))
        scores = {}
        for key in keys:
            number = _number(values.get(key + (headline,)))
            if number is not None:
                scores[(key[3], series_name(key))] = Value(number)
        capabilities = list(dict.fromkeys(capability for capability, _ in scores))
        mode = records[0]['mode']
        parts.append(f'<h3>{esc(dataset)} <span class="badge">{esc(mode)}</span></h3>')
        if scores:
            parts.append(figure(charts.score_bars(
                f'{dataset}: {headline.replace("_", " ")}', capabilities, series, scores,
                charts.model_colours(series), xlabel='win rate (%)' if headline == 'win_rate' else 'score')))
        parts.append(table(['model', 'opponent', 'judge', 'capability'] + metrics, rows))
    return ''.join(parts)


def series_name(key):
    model, opponent, judge, _ = key
    return f'{model} vs {opponent}' if opponent else f'{model} (judge {judge})'


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def value_cell(text):
    number = _number(text)
    return cell(text, sort='' if number is None else number, cls='num')


def figures_section(run):
    """Images other summarizers left in summary/: the needle-in-a-haystack heatmaps (one per
    model: score by context length and needle depth) under their own heading, then any other."""
    needle = [p for p in run.figures if p.name.startswith('needlebench_')]
    other = [p for p in run.figures if p not in needle]
    parts = []
    if needle:
        parts.append('<h2>Needle in a haystack</h2><p class="note">Score by context length (x) and the '
                     'depth of the needle in the context (y), one heatmap per model.</p>'
                     + ''.join(image_figure(p) for p in needle))
    if other:
        parts.append('<h2>Figures</h2>' + ''.join(image_figure(p) for p in other))
    return ''.join(parts)


def samples_data(run):
    """For the error-analysis view: per dataset and model, the wrong samples and the total.

    Prompt texts are kept once in ``texts`` and named by index: the in-context examples that
    every prompt of a dataset repeats would otherwise make up most of the page."""
    texts = TextPool()
    datasets = {}
    for r in run.dataset_rows:
        per_model = {}
        for model in run.models:
            marks = run.correctness(model, r.name)
            if marks is None:
                continue
            marked = any(m is not None for m in marks)
            samples = run.samples(model, r.name) if marked else []
            head = shared_head([s.prompt[0][1] for s in samples if s.prompt])
            wrong = [compact(s, texts, head) for s in samples]
            per_model[model] = {'total': len(marks), 'marked': marked, 'wrong': wrong}
        datasets[r.name] = per_model
    return {'models': run.models, 'datasets': datasets, 'texts': texts.items}


class TextPool:
    """Each distinct text once; a text is then named by its index."""

    def __init__(self):
        self.items, self.index = [], {}

    def __call__(self, text):
        if text not in self.index:
            self.index[text] = len(self.items)
            self.items.append(text)
        return self.index[text]


def shared_head(texts, least=200):
    """The opening that all ``texts`` share, up to a line end (the in-context examples of a plain
    text prompt), or '' when there is no long one."""
    if len(texts) < 2:
        return ''
    head = common_prefix(texts)
    head = head[:head.rfind('\n') + 1]
    return head if len(head) >= least else ''


def compact(sample, texts, head=''):
    """A sample as the page's script reads it (short keys: the page holds many of them). A turn's
    text is a list of pool indices, joined in order."""
    turns = []
    for k, (role, text) in enumerate(sample.prompt):
        if k == 0 and head and text.startswith(head):
            turns.append([role, [texts(head), texts(text[len(head):])]])
        else:
            turns.append([role, [texts(text)]])
    found = {'i': sample.index, 'p': turns, 'o': sample.options, 'r': sample.prediction,
             'a': sample.answer, 'g': sample.gold}
    if sample.subset:
        found['s'] = sample.subset
    return found
