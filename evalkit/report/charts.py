"""Figures for the report, drawn with matplotlib and returned as inline SVG markup.

Text stays text in the SVG (``svg.fonttype='none'``), so the browser draws it in its own fonts
and the file stays small.
"""
import io

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

_STYLE = {'svg.fonttype': 'none', 'font.size': 9, 'axes.spines.top': False, 'axes.spines.right': False}


def model_colours(models):
    """One colour per model, the same in every figure of a page."""
    palette = plt.get_cmap('tab10').colors
    return {m: matplotlib.colors.to_hex(palette[i % len(palette)]) for i, m in enumerate(models)}


def to_svg(fig):
    buffer = io.StringIO()
    fig.savefig(buffer, format='svg', bbox_inches='tight')
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index('<svg'):]  # inline: without the XML prolog and doctype


def score_bars(title, labels, models, scores, colours, xlabel='score'):
    """Horizontal bars, a cluster per label and a bar per model, with standard-error whiskers.

    ``scores``: {(label, model): Value}; a missing score leaves a gap."""
    with plt.rc_context(_STYLE):
        height = 0.8 / max(1, len(models))
        ends = [v.value + sign * (v.stderr or 0.0) for v in scores.values() for sign in (-1, 1)] or [0.0]
        fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.28 * len(labels) * max(1, len(models)) ** 0.6))
        for k, model in enumerate(models):
            ys, xs, errors = [], [], []
            for i, label in enumerate(labels):
                score = scores.get((label, model))
                if score is not None:
                    ys.append(i + (k - (len(models) - 1) / 2) * height)
                    xs.append(score.value)
                    errors.append(score.stderr or 0.0)
            ax.barh(ys, xs, height=height * 0.9, xerr=errors if any(errors) else None,
                    color=colours[model], label=model,
                    error_kw={'elinewidth': 0.8, 'capsize': 2, 'ecolor': '#333333'})
        # Bars grow from zero; an axis of zeros alone still reads as a scale, not as +-0.04.
        low, high = min(0.0, min(ends)), max(0.0, max(ends))
        if low == high:
            high = 1.0
        pad = 0.03 * (high - low)
        ax.set_xlim(low - pad if low < 0 else 0.0, high + pad if high > 0 else 0.0)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc='left', fontsize=10)
        ax.grid(axis='x', color='#dddddd', linewidth=0.6)
        ax.set_axisbelow(True)
        if len(models) > 1:
            ax.legend(loc='lower right', fontsize=8, frameon=False)
        return to_svg(fig)
