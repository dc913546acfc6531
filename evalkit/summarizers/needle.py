"""The needle-in-a-haystack summary: the usual table, then a grid per model and needle dataset
(rows: depth, columns: context length, with averages), and one heatmap PNG per model.

Files, beside the usual ``summary_<ts>.{txt,csv,md}`` (whose txt and md also hold the grids):

- ``summary/needlebench_<ts>.csv``: model, dataset, length, depth, score, samples (one row a cell);
- ``summary/needlebench_<ts>_<model>.png``: a panel per needle dataset, and one for their average
  when there are several, x = context length, y = depth, colour = score (0 red .. 100 green),
  each cell labelled with its score and each panel titled with its average.
"""
import csv
import io
from pathlib import Path

from tabulate import tabulate

from ..config import dataset_abbr, model_abbr
from ..registry import resolve
from ..tasks.base import results_path
from ..utils.fileio import atomic_write_text, read_json
from .default import DefaultSummarizer

# Heatmap geometry, in inches: a panel grows with its grid; the figure is saved at DPI.
CELL_W, CELL_H, PANEL_PAD_W, PANEL_PAD_H, DPI, MAX_COLUMNS = 0.7, 0.4, 1.6, 1.3, 100, 3


def is_needle_dataset(dataset_cfg):
    from ..datasets.needlebench import NeedleBenchDataset
    try:
        cls = resolve(dataset_cfg.get('type'))
    except Exception:  # an unresolvable type is reported where the dataset is loaded, not here
        return False
    return isinstance(cls, type) and issubclass(cls, NeedleBenchDataset)


def default_summarizer_type(datasets):
    """The summarizer of a run whose config names none: the needle one when it has needle datasets."""
    return 'NeedleSummarizer' if any(is_needle_dataset(d) for d in datasets) else 'DefaultSummarizer'


class Grid:
    """Scores of one (model, dataset) by cell, with the averages the table and heatmap show."""

    def __init__(self, title, cells):
        self.title = title
        self.cells = dict(cells)  # {(length, depth): score}
        self.lengths = sorted({length for length, _ in self.cells})
        self.depths = sorted({depth for _, depth in self.cells})

    def value(self, length, depth):
        return self.cells.get((length, depth))

    @staticmethod
    def _mean(values):
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else None

    def length_mean(self, length):
        return self._mean(self.value(length, d) for d in self.depths)

    def depth_mean(self, depth):
        return self._mean(self.value(n, depth) for n in self.lengths)

    def mean(self):
        return self._mean(self.cells.values())

    def table(self, fmt):
        header = ['depth \\ length'] + [str(n) for n in self.lengths] + ['avg']
        show = (lambda v: '-' if v is None else f'{v:.1f}')
        rows = [[f'{d}%'] + [show(self.value(n, d)) for n in self.lengths] + [show(self.depth_mean(d))]
                for d in self.depths]
        rows.append(['avg'] + [show(self.length_mean(n)) for n in self.lengths] + [show(self.mean())])
        return tabulate(rows, headers=header, tablefmt=fmt, disable_numparse=True)


def average_grid(title, grids):
    """Cell by cell mean over grids, of the cells every grid has (a cell one dataset skipped, too
    short or too long for it, would otherwise average other datasets than its neighbours)."""
    shared = set.intersection(*(set(g.cells) for g in grids))
    return Grid(title, {cell: sum(g.cells[cell] for g in grids) / len(grids) for cell in shared})


def figure_size(panels, n_lengths, n_depths):
    """(width, height) in inches of a heatmap figure: panels in rows of up to MAX_COLUMNS."""
    columns = min(panels, MAX_COLUMNS)
    rows = -(-panels // MAX_COLUMNS)
    return (columns * (PANEL_PAD_W + CELL_W * n_lengths), rows * (PANEL_PAD_H + CELL_H * n_depths))


def draw_heatmap(grids, path, model):
    """One PNG: a panel per grid, cells coloured and labelled by score."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    n_lengths = max(len(g.lengths) for g in grids)
    n_depths = max(len(g.depths) for g in grids)
    columns = min(len(grids), MAX_COLUMNS)
    rows = -(-len(grids) // MAX_COLUMNS)
    fig, axes = plt.subplots(rows, columns, figsize=figure_size(len(grids), n_lengths, n_depths),
                             dpi=DPI, squeeze=False, layout='constrained')
    for ax in axes.flat[len(grids):]:
        ax.set_visible(False)
    image = None
    for ax, grid in zip(axes.flat, grids):
        data = [[grid.value(n, d) for n in grid.lengths] for d in grid.depths]
        image = ax.imshow([[float('nan') if v is None else v for v in row] for row in data],
                          cmap='RdYlGn', vmin=0, vmax=100, aspect='auto')
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                ax.text(j, i, '-' if v is None else f'{v:.0f}', ha='center', va='center', fontsize=7)
        ax.set_xticks(range(len(grid.lengths)), [str(n) for n in grid.lengths], fontsize=7)
        ax.set_yticks(range(len(grid.depths)), [f'{d}%' for d in grid.depths], fontsize=7)
        ax.set_xlabel('context length (tokens)', fontsize=7)
        ax.set_ylabel('depth', fontsize=7)
        mean = grid.mean()
        ax.set_title(f'{grid.title}\navg {mean:.1f}' if mean is not None else grid.title, fontsize=8)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label='score')
    fig.suptitle(model, fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name('.' + path.name + '.tmp')
    fig.savefig(tmp, dpi=DPI, format='png')  # written beside it, then renamed: never half a PNG
    plt.close(fig)
    tmp.replace(path)


class NeedleSummarizer(DefaultSummarizer):
    """The default summary of every dataset, then the needle grids and heatmaps."""

    def summarize(self, models, datasets, work_dir, timestamp):
        text, paths = super().summarize(models, datasets, work_dir, timestamp)
        needles = [d for d in datasets if is_needle_dataset(d)]
        out = Path(work_dir, 'summary')
        sections, markdown, cells_csv = [], [], [['model', 'dataset', 'length', 'depth', 'score', 'samples']]
        for m in models:
            grids = []
            for d in needles:
                path = results_path(work_dir, m, d)
                by_cell = read_json(path).get('by_cell') if path.exists() else None
                if not by_cell:
                    continue
                grids.append(Grid(dataset_abbr(d), {(c['length'], c['depth']): c['score'] for c in by_cell}))
                cells_csv += [[model_abbr(m), dataset_abbr(d), c['length'], c['depth'], f'{c["score"]:.2f}',
                               c.get('num_samples', '')] for c in by_cell]
            if not grids:
                continue
            shown = grids + ([average_grid('average', grids)] if len(grids) > 1 else [])
            for grid in shown:
                heading = f'{model_abbr(m)} / {grid.title}'
                sections.append(f'{heading}\n{grid.table("plain")}')
                markdown.append(f'### {heading}\n\n{grid.table("github")}')
            png = out / f'needlebench_{timestamp}_{model_abbr(m)}.png'
            draw_heatmap(shown, png, model_abbr(m))
            paths[f'png:{model_abbr(m)}'] = png
        if not sections:
            return text, paths
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator='\n').writerows(cells_csv)
        paths['needle_csv'] = out / f'needlebench_{timestamp}.csv'
        atomic_write_text(paths['needle_csv'], buffer.getvalue())
        grid_text = '\n\nneedle in a haystack: score by depth and context length\n\n' + '\n\n'.join(sections)
        atomic_write_text(paths['txt'], paths['txt'].read_text(encoding='utf-8') + grid_text + '\n')
        atomic_write_text(paths['md'], paths['md'].read_text(encoding='utf-8')
                          + '\n## Needle in a haystack\n\n' + '\n\n'.join(markdown) + '\n')
        return text + grid_text, paths
