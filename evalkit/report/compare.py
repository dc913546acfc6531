"""Two runs side by side (or two models of one run): the change of every dataset and group score,
marked where it is larger than the two standard errors together would explain, and the samples
whose answer flipped between right and wrong.

A difference counts as significant when |b - a| > z * sqrt(se_a^2 + se_b^2) (z = 1.96: about 95%
for independent samples). On the same questions the two scores are paired, so this is on the
cautious side; the flipped samples show what moved.
"""
import math
from dataclasses import dataclass

from tabulate import tabulate

from ..utils.errors import EvalkitError
from . import charts
from .data import Run, Value, as_text
from .html import cell, esc, figure, page, score_cell, table

Z_95 = 1.96


@dataclass
class Side:
    run: Run
    model: str

    @property
    def label(self):
        return f'{self.run.stamp}/{self.model}'


@dataclass
class Delta:
    name: str
    is_group: bool
    a: Value
    b: Value
    versions_differ: bool
    z: float = Z_95

    @property
    def delta(self):
        return None if self.a is None or self.b is None else self.b.value - self.a.value

    @property
    def combined_se(self):
        if self.delta is None or self.a.stderr is None or self.b.stderr is None:
            return None
        return math.sqrt(self.a.stderr ** 2 + self.b.stderr ** 2)

    @property
    def significant(self):
        """True/False, or None when a standard error is missing."""
        if self.combined_se is None:
            return None
        return abs(self.delta) > self.z * self.combined_se


@dataclass
class Flip:
    dataset: str
    index: int
    gold: str
    answer_a: str
    answer_b: str
    fixed: bool        # wrong in A, right in B


def pick_sides(run_a, run_b=None, models=None):
    """The (A, B) pairs to compare: ``models`` names one model per side; else the models both
    runs have; else the only model of each."""
    run_b = run_b or run_a
    if models:
        if len(models) != 2:
            raise EvalkitError('--models takes two names: the model of A, then the model of B')
        for run, model in ((run_a, models[0]), (run_b, models[1])):
            if model not in run.models:
                raise EvalkitError(f'{run.path}: no model {model!r} (its models: {", ".join(run.models) or "none"})')
        return [(Side(run_a, models[0]), Side(run_b, models[1]))]
    if run_a.path == run_b.path:
        raise EvalkitError(f'one run given: name the two models to compare with --models A B '
                           f'(its models: {", ".join(run_a.models)})')
    common = [m for m in run_a.models if m in run_b.models]
    if common:
        return [(Side(run_a, m), Side(run_b, m)) for m in common]
    if len(run_a.models) == 1 and len(run_b.models) == 1:
        return [(Side(run_a, run_a.models[0]), Side(run_b, run_b.models[0]))]
    raise EvalkitError(f'the runs share no model: name one of each with --models A B '
                       f'(A: {", ".join(run_a.models)}; B: {", ".join(run_b.models)})')


def deltas(a, b, z=Z_95):
    """A Delta per dataset and group of either side, A's order first."""
    rows_a = {r.label: r for r in a.run.rows}
    rows_b = {r.label: r for r in b.run.rows}
    names = list(dict.fromkeys(list(rows_a) + list(rows_b)))
    out = []
    for name in names:
        ra, rb = rows_a.get(name), rows_b.get(name)
        versions = {r.version for r in (ra, rb) if r is not None and r.version not in ('', '-')}
        out.append(Delta(name, any(r.is_group for r in (ra, rb) if r is not None),
                         ra.scores.get(a.model) if ra else None, rb.scores.get(b.model) if rb else None,
                         len(versions) > 1, z))
    # Datasets first, then groups, as in the summary.
    return [d for d in out if not d.is_group] + [d for d in out if d.is_group]


def flips(a, b):
    """Samples right on one side and wrong on the other, for datasets scored on both with the
    same questions (same count and gold answers)."""
    found = []
    names_b = {r.name for r in b.run.dataset_rows}
    for row in a.run.dataset_rows:
        if row.name not in names_b:
            continue
        da = (a.run.results(a.model, row.name) or {}).get('details')
        db = (b.run.results(b.model, row.name) or {}).get('details')
        if not isinstance(da, list) or not isinstance(db, list) or len(da) != len(db):
            continue
        if any(as_text(x.get('gold')) != as_text(y.get('gold')) for x, y in zip(da, db)):
            continue
        for i, (x, y) in enumerate(zip(da, db)):
            ca, cb = x.get('correct'), y.get('correct')
            if isinstance(ca, bool) and isinstance(cb, bool) and ca != cb:
                found.append(Flip(row.name, i, as_text(x.get('gold')), as_text(x.get('pred')),
                                  as_text(y.get('pred')), cb))
    return found


def signed(value):
    return '-' if value is None else f'{value:+.2f}'


def mark(d):
    """'*' significant, '?' a standard error missing, '' otherwise or when a side has no score."""
    sig = '' if d.delta is None else {True: '*', False: '', None: '?'}[d.significant]
    return sig + (' (versions differ)' if d.versions_differ else '')


def text_report(a, b, rows, flipped, show_flips=50):
    header = ['dataset', a.label, b.label, 'delta', f'± {rows[0].z if rows else Z_95:g}·se', 'sig']
    table_rows = [[d.name + (' [group]' if d.is_group else ''), d.a.text() if d.a else '-',
                   d.b.text() if d.b else '-', signed(d.delta),
                   '-' if d.combined_se is None else f'{d.z * d.combined_se:.2f}', mark(d)] for d in rows]
    lines = [f'A = {a.label}   B = {b.label}',
             tabulate(table_rows, headers=header, tablefmt='plain', disable_numparse=True),
             '* |delta| larger than z x the combined standard error; ? a standard error is missing']
    fixed = sum(f.fixed for f in flipped)
    lines.append(f'\n{len(flipped)} sample(s) flipped: {fixed} wrong in A and right in B, '
                 f'{len(flipped) - fixed} right in A and wrong in B')
    for f in flipped[:show_flips]:
        lines.append(f'  {f.dataset} #{f.index}: gold {f.gold}; A {f.answer_a!r} -> B {f.answer_b!r} '
                     f'({"fixed" if f.fixed else "broken"})')
    if len(flipped) > show_flips:
        lines.append(f'  ... and {len(flipped) - show_flips} more (--show-flips N, or --html for all)')
    return '\n'.join(lines)


def html_section(a, b, rows, flipped):
    """The comparison of one pair as page markup: a chart of the deltas, the table, the flips."""
    body = [f'<h2>A = {esc(a.label)} · B = {esc(b.label)}</h2>']
    both = [d for d in rows if d.delta is not None]
    if both:
        scores = {(d.name, 'B - A'): Value(d.delta, None if d.combined_se is None else d.z * d.combined_se)
                  for d in both}
        body.append(figure(charts.score_bars('B - A', [d.name for d in both], ['B - A'], scores,
                                             charts.model_colours(['B - A']), xlabel='change in score'),
                           f'whiskers: ± {both[0].z:g} × the combined standard error'))
    table_rows, classes = [], []
    for d in rows:
        direction = '' if not d.delta else ('up' if d.delta > 0 else 'down')
        cls = ' '.join(c for c in ('num', direction, 'sig' if d.significant else '') if c)
        table_rows.append([cell(d.name), score_cell(d.a), score_cell(d.b),
                           cell(signed(d.delta), sort='' if d.delta is None else d.delta, cls=cls),
                           cell('-' if d.combined_se is None else f'{d.z * d.combined_se:.2f}', cls='num'),
                           cell(mark(d))])
        classes.append('group' if d.is_group else '')
    body.append(table(['dataset', 'A', 'B', 'B - A', '± z·se', 'significant'], table_rows, row_classes=classes))
    fixed = sum(f.fixed for f in flipped)
    body.append(f'<h3>Flipped samples</h3><p class="meta">{len(flipped)} sample(s): {fixed} wrong in A and '
                f'right in B, {len(flipped) - fixed} right in A and wrong in B.</p>')
    if flipped:
        body.append(table(['dataset', '#', 'gold', 'A answer', 'B answer', 'now'],
                          [[cell(f.dataset), cell(f.index, sort=f.index, cls='num'), cell(f.gold),
                            cell(f.answer_a), cell(f.answer_b),
                            cell('fixed' if f.fixed else 'broken', cls='up' if f.fixed else 'down')]
                           for f in flipped]))
    return ''.join(body)


def compare_runs(run_a, run_b=None, models=None, z=Z_95):
    """[(A, B, deltas, flips)] for every pair to compare."""
    return [(a, b, deltas(a, b, z), flips(a, b)) for a, b in pick_sides(run_a, run_b, models)]


def html_page(results, z=Z_95):
    title = 'evalkit comparison'
    intro = (f'<h1>{esc(title)}</h1><p class="note">A difference is marked significant when it exceeds '
             f'{z:g} × sqrt(se_A² + se_B²). Click a column heading to sort.</p>')
    return page(title, intro + ''.join(html_section(a, b, rows, f) for a, b, rows, f in results))
