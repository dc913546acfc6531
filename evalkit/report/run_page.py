"""``summary/report.html``: one run's page.

The summary table, a chart and a sortable table per dataset group, the subset metrics of
contamination analysis, subjective judgements and the figures other summarizers left in
``summary/``; each dataset links to the samples a model got wrong (``#errors/<dataset>``).
"""
from collections import defaultdict
from pathlib import Path

from ..utils.fileio import atomic_write_text
from . import charts
from .data import Run, Value
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
        parts.append(subset_metrics_section(run))
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
    rows = [[dataset_link(r.name, linked), cell(r.version), cell(r.metric), cell(r.mode)]
            + [score_cell(r.scores.get(m)) for m in run.models] for r in run.rows]
    classes = ['group' if r.is_group else '' for r in run.rows]
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
    by_name = {r.name: r for r in run.rows}
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
        parts.append(f'<h3>{esc(title)}</h3>'
                     + figure(charts.score_bars(title, subsets, run.models, scores, colours))
                     + subsets_table(run, subsets, by_name, samples, linked))
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


def subset_metrics_section(run):
    """Further metrics of a dataset's results (accuracy on its clean and contaminated subsets, ...)."""
    rows, names = [], set()
    for r in run.dataset_rows:
        extra = {m: run.extra_metrics(m, r.name) for m in run.models}
        for metric in dict.fromkeys(k for values in extra.values() for k in values):
            names.add(metric)
            rows.append([cell(r.name), cell(metric)] + [score_cell(extra[m].get(metric)) for m in run.models])
    if not rows:
        return ''
    contamination = any(word in n for n in names for word in ('clean', 'contaminat'))
    title = 'Contamination subsets' if contamination else 'Further metrics'
    note = ('Each dataset scored again on the subsets of its questions found (or not) in the '
            'contamination reference: a score that holds on the clean subset is not explained by '
            'leaked test data.') if contamination else 'Metrics of the results files beside the headline score.'
    return f'<h2>{title}</h2><p class="note">{note}</p>' + table(['dataset', 'metric'] + run.models, rows)


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
        capabilities = list(dict.fromkeys(k[3] for k in keys))
        scores = {}
        for key in keys:
            number = _number(values.get(key + (headline,)))
            if number is not None:
                scores[(key[3], series_name(key))] = Value(number)
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
    figures = run.figures
    if not figures:
        return ''
    return '<h2>Figures</h2>' + ''.join(image_figure(p) for p in figures)


def samples_data(run):
    """For the error-analysis view: per dataset and model, the wrong samples and the total."""
    datasets = {}
    for r in run.dataset_rows:
        per_model = {}
        for model in run.models:
            marks = run.correctness(model, r.name)
            if marks is None:
                continue
            marked = any(m is not None for m in marks)
            wrong = [compact(s) for s in run.samples(model, r.name)] if marked else []
            per_model[model] = {'total': len(marks), 'marked': marked, 'wrong': wrong}
        datasets[r.name] = per_model
    return {'models': run.models, 'datasets': datasets}


def compact(sample):
    """A sample as the page's script reads it (short keys: the page holds many of them)."""
    return {'i': sample.index, 'p': sample.prompt, 'o': sample.options, 'r': sample.prediction,
            'a': sample.answer, 'g': sample.gold}
