"""Perplexity-based contamination detection, for when the training data is unknown.

A model that saw a benchmark's test items in training finds them easier to predict, word for word,
than items of the same kind it never saw. So each item (question, options and answer as one plain
text) is scored by its mean per-token negative log-likelihood, on the test split and on reference
items: the dataset's own training/dev split (published with the test split, so a model that saw
one likely saw both; give fresh items with ``reference`` when you can) or a user's JSONL file.

Per-token perplexity falls as a text grows longer (later tokens have more context), so both sides
are cut to the same length first: each item to at most the smaller of the two sides' median
length in characters. The report gives, per dataset (and for all items together when there are several datasets), the perplexity of each side, exp(mean per-token NLL over items),
their ratio exp(mean_test - mean_reference) with a 95% interval from the two means' standard
errors (Welch), and a plain reading. A ratio clearly below 1 is a sign, not a proof: test items
may simply be easier or more formulaic than the reference ones.
"""
import math

from ..config import dataset_abbr, model_abbr
from ..registry import build
from ..tasks.base import load_splits
from ..utils.errors import EvalkitError
from ..utils.fileio import read_jsonl
from ..utils.logging import get_logger

logger = get_logger()
Z95 = 1.959964
# A ratio this far below 1 (with its interval below 1 too) reads as a marked difference.
MARKED_RATIO = 0.9


def item_text(row, input_columns, output_column=None):
    """One item as plain text: its input columns (an option column as ``A. text``), then the answer."""
    if isinstance(row.get('text'), str) and not input_columns:
        return row['text']
    lines = []
    for column in input_columns:
        value = str(row.get(column) or '')
        lines.append(f'{column}. {value}' if len(column) == 1 and column.isupper() else value)
    answer = str(row.get(output_column) or '').strip() if output_column else ''
    if answer:
        lines.append(answer)
    return '\n'.join(lines)


def reference_rows(path):
    """Rows of a user's reference file (JSONL): a ``text`` field, or the dataset's own columns."""
    from pathlib import Path
    if not Path(path).is_file():
        raise EvalkitError(f'reference file not found: {path}')
    rows = [row for _, row in read_jsonl(path)]
    if not rows:
        raise EvalkitError(f'{path}: no rows; give one JSON object per line')
    return rows


def side_stats(nll, tokens):
    """Items, tokens, mean per-token NLL over items, its standard error, and the perplexity."""
    n = len(nll)
    mean = sum(nll) / n
    var = sum((x - mean) ** 2 for x in nll) / (n - 1) if n > 1 else float('nan')
    return {'items': n, 'tokens': sum(tokens), 'mean_nll': mean, 'nll_stderr': math.sqrt(var / n),
            'perplexity': math.exp(mean)}


def reading(ratio, low, high):
    """A plain-language reading of the perplexity ratio test / reference and its 95% interval."""
    if math.isnan(low) or math.isnan(high):
        return 'too few items to judge'
    if high < 1 and ratio < MARKED_RATIO:
        return 'test items are markedly easier for the model than unseen items: possible contamination'
    if high < 1:
        return 'test items are slightly easier than unseen items: weak sign, check with an overlap search'
    if low > 1:
        return 'test items are harder than unseen items: no sign of contamination'
    return 'no clear difference from unseen items: no sign of contamination'


def compare(test_nll, test_tokens, ref_nll, ref_tokens):
    test, ref = side_stats(test_nll, test_tokens), side_stats(ref_nll, ref_tokens)
    diff = test['mean_nll'] - ref['mean_nll']
    se = math.sqrt(test['nll_stderr'] ** 2 + ref['nll_stderr'] ** 2)
    ratio, low, high = math.exp(diff), math.exp(diff - Z95 * se), math.exp(diff + Z95 * se)
    return {'test': test, 'reference': ref, 'ratio': ratio, 'ratio_ci95': [low, high],
            'reading': reading(ratio, low, high)}


def common_length(test_texts, ref_texts):
    """The length in characters both sides are cut to: the smaller of their median lengths."""
    def median(texts):
        lengths = sorted(len(t) for t in texts)
        return lengths[len(lengths) // 2]
    return min(median(test_texts), median(ref_texts))


def score_texts(model, texts):
    """(mean per-token NLL, token count) of each text, scored as plain text by the backend."""
    nll = [group[0] for group in model.choice_nll([[t] for t in texts])]
    return nll, [model.token_len(t) for t in texts]


def perplexity_report(model_cfg, dataset_cfgs, reference=None, max_items=None, data_root=None, model=None):
    """The report of one model over the datasets: a dict with one entry per dataset."""
    extra_rows = reference_rows(reference) if reference else None
    own_model = model is None
    if own_model:
        from ..tasks.base import set_threads
        set_threads()
        model = build(model_cfg)
    entries, pooled = [], ([], [], [], [])
    try:
        for cfg in dataset_cfgs:
            abbr = dataset_abbr(cfg)
            train, test, reader = load_splits(cfg, data_root)
            columns, output = list(reader.get('input_columns') or []), reader.get('output_column')
            refs = extra_rows if extra_rows is not None else train
            if extra_rows is None and reader.get('train_split') == reader.get('test_split'):
                raise EvalkitError(f'{abbr}: its training and test splits are the same; give unseen items '
                                   'with --reference FILE')
            if not test or not refs:
                raise EvalkitError(f'{abbr}: no {"test" if not test else "reference"} items to score')
            test, refs = test[:max_items], refs[:max_items]
            ref_columns = [] if extra_rows is not None and all('text' in r for r in refs) else columns
            test_texts = [item_text(r, columns, output) for r in test]
            ref_texts = [item_text(r, ref_columns, output) for r in refs]
            cut = common_length(test_texts, ref_texts)
            test_scores = score_texts(model, [t[:cut] for t in test_texts])
            ref_scores = score_texts(model, [t[:cut] for t in ref_texts])
            entry = {'dataset': abbr, 'chars_per_item': cut, **compare(*test_scores, *ref_scores)}
            for kept, values in zip(pooled, test_scores + ref_scores):
                kept.extend(values)
            logger.info('%s: perplexity test %.2f, reference %.2f, ratio %.3f: %s', abbr,
                        entry['test']['perplexity'], entry['reference']['perplexity'], entry['ratio'],
                        entry['reading'])
            entries.append(entry)
    finally:
        if own_model:
            model.close()
    if len(entries) > 1:
        entries.append({'dataset': 'all', **compare(*pooled)})
    return {'model': model_abbr(model_cfg), 'reference': reference or 'each dataset\'s training split',
            'datasets': entries}
