"""Plain-text tables of the overlap annotations and the perplexity report, for the terminal."""
from tabulate import tabulate


def overlap_table(annotations):
    """One row per dataset: samples, and how many of them carry each label."""
    from .overlap import LABELS
    rows, totals = [], [0] * (len(LABELS) + 1)
    for abbr, entry in annotations['datasets'].items():
        counts = [entry['num_samples']] + [entry['counts'][label] for label in LABELS]
        totals = [t + c for t, c in zip(totals, counts)]
        rows.append([abbr] + counts)
    if len(rows) > 1:
        rows.append(['total'] + totals)
    corpus = annotations['corpus']
    table = tabulate(rows, headers=['dataset', 'samples'] + list(LABELS), tablefmt='plain')
    megabytes = sum(f['bytes'] for f in corpus['files']) / 1e6
    speed = megabytes / corpus['seconds'] if corpus['seconds'] else float('inf')
    return (f'{table}\ncorpus: {len(corpus["files"])} file(s), {megabytes:.1f} MB, '
            f'{corpus["documents"]} documents, read in {corpus["seconds"]:.1f} s ({speed:.1f} MB/s)')


def perplexity_table(report):
    """One row per dataset: items, perplexities, their ratio with its interval, and the reading."""
    rows = []
    for entry in report['datasets']:
        test, ref = entry['test'], entry['reference']
        low, high = entry['ratio_ci95']
        rows.append([entry['dataset'], f'{test["items"]}/{ref["items"]}', f'{test["perplexity"]:.2f}',
                     f'{ref["perplexity"]:.2f}', f'{entry["ratio"]:.3f} [{low:.3f}, {high:.3f}]',
                     entry['reading']])
    headers = ['dataset', 'items test/ref', 'ppl test', 'ppl reference', 'ratio [95% interval]', 'reading']
    return f'model: {report["model"]} (reference: {report["reference"]})\n' + \
        tabulate(rows, headers=headers, tablefmt='plain', disable_numparse=True)
