"""``<work-dir>/index.html``: every run of a work dir, newest first, with a link to its report."""
from pathlib import Path

from ..utils.fileio import atomic_write_text
from .data import Run, headline_scores, list_runs
from .html import cell, esc, page, table
from .run_page import REPORT_NAME

INDEX_NAME = 'index.html'


def run_row(run):
    datasets = [r.name for r in run.dataset_rows] or list(dict.fromkeys(r['dataset'] for r in run.subjective_records))
    shown = ', '.join(datasets[:4]) + (f' and {len(datasets) - 4} more' if len(datasets) > 4 else '')
    scores = headline_scores(run)
    report = run.path / 'summary' / REPORT_NAME
    link = (f'<a href="{esc(run.stamp)}/summary/{REPORT_NAME}">{esc(run.stamp)}</a>' if report.exists()
            else esc(run.stamp))
    return [cell(link, sort=run.stamp, raw=True), cell(run.started.strftime('%Y-%m-%d %H:%M')),
            cell(', '.join(run.models)), cell(f'{len(datasets)}: {shown}', sort=len(datasets)),
            cell('<br>'.join(f'{esc(m)}: {esc(t)}' for m, t in scores.items()), raw=True)]


def write_index(work_dir):
    """Write (or refresh) the index page of ``work_dir``; returns its path."""
    runs = [Run(p) for p in list_runs(work_dir)]
    body = (f'<h1>Runs in {esc(Path(work_dir))}</h1><p class="meta">{len(runs)} run(s), newest first. '
            'Click a run for its report.</p>'
            + table(['run', 'started', 'models', 'datasets', 'headline scores'], [run_row(r) for r in runs]))
    path = Path(work_dir, INDEX_NAME)
    atomic_write_text(path, page(f'evalkit runs in {work_dir}', body))
    return path
