"""Marking benchmark samples found in a training corpus, by n-gram overlap.

The benchmark's n-grams make a small index; the corpus streams past it one document at a time, so
memory depends on the benchmark, never on the corpus. For each sample the best document is the one
holding the largest share of the sample's input n-grams (its ``input_overlap``). A sample is

- ``input contaminated`` when some document holds at least ``input_threshold`` of them;
- ``input-and-label contaminated`` when such a document also gives the answer right after the
  input: for a multiple-choice sample an answer cue (``答案``, ``answer``, ...) followed by the right
  letter or the right option's text, for other samples the gold answer's own text (its n-grams, at
  least ``label_threshold`` of them, when it is long);
- ``clean`` otherwise.

The input is the text of the dataset's ``input_columns`` (question and options), the label its
``output_column``, both on the split the dataset is scored on.
"""
import os
import time
from typing import NamedTuple

from ..config import dataset_abbr
from ..tasks.base import load_splits
from ..utils.errors import EvalkitError
from ..utils.logging import get_logger
from .corpus import check_corpus, iter_documents
from .ngrams import (CHAR_N, WORD_N, contains_run, gram_positions, gram_tokens, iter_ngrams, ngram_size, ngrams,
                     text_gram_tokens, tokens)

logger = get_logger()

CLEAN = 'clean'
INPUT = 'input contaminated'
INPUT_AND_LABEL = 'input-and-label contaminated'
LABELS = (CLEAN, INPUT, INPUT_AND_LABEL)
ANNOTATION_FORMAT = 'evalkit-contamination-annotations'

# Token sequences that announce an answer, after normalisation (punctuation is gone).
ANSWER_CUES = (('答', '案'), ('答',), ('选',), ('answer',), ('answer', 'is'), ('correct', 'answer'),
               ('key',), ('解', '析'))
# How far past the end of the input an answer may start, in tokens.
ANSWER_REACH = 32


class Sample(NamedTuple):
    abbr: str
    index: int
    n: int              # n-gram size (None: too short to judge)
    grams: frozenset    # the input's n-grams
    label_tokens: list  # the gold answer's tokens (or the right option's, for a letter)
    letter: str         # the gold letter of a multiple-choice sample, else None


def sample_of(abbr, index, row, input_columns, output_column, word_n, char_n):
    """A benchmark row as a Sample: its input n-grams and what its answer looks like."""
    text = '\n'.join(str(row.get(c) or '') for c in input_columns)
    toks = gram_tokens(tokens(text))
    n = ngram_size(toks, word_n, char_n)
    gold = str(row.get(output_column) or '').strip() if output_column else ''
    letter = None
    if len(gold) == 1 and gold.isalpha() and gold in input_columns:
        letter = gold.lower()
        label = tokens(str(row.get(gold) or ''))
    else:
        label = tokens(gold)
    return Sample(abbr, index, n, frozenset(ngrams(toks, n)) if n else frozenset(), label, letter)


def benchmark_samples(dataset_cfgs, data_root=None, word_n=WORD_N, char_n=CHAR_N):
    """{abbr: (split name, [Sample, ...])} for the rows each dataset is scored on."""
    out = {}
    for cfg in dataset_cfgs:
        _, test, reader = load_splits(cfg, data_root)
        abbr = dataset_abbr(cfg)
        columns = list(reader.get('input_columns') or [])
        if not columns:
            raise EvalkitError(f'{abbr}: its reader_cfg names no input_columns to look for')
        output = reader.get('output_column')
        samples = [sample_of(abbr, i, row, columns, output, word_n, char_n) for i, row in enumerate(test)]
        out[abbr] = (reader.get('test_split', 'test'), samples)
    return out


class Match(NamedTuple):
    overlap: float
    place: str


class OverlapScanner:
    """The benchmark's n-gram index and, per sample, the best evidence seen so far."""

    def __init__(self, samples, input_threshold=0.5, label_threshold=0.5):
        for name, value in (('input_threshold', input_threshold), ('label_threshold', label_threshold)):
            if not 0 < value <= 1:
                raise EvalkitError(f'{name}={value}: give a share of n-grams between 0 and 1 (e.g. 0.5)')
        self.samples = samples
        self.input_threshold = input_threshold
        self.label_threshold = label_threshold
        self.index = {}   # n-gram -> ids of the samples holding it
        for sid, sample in enumerate(samples):
            for gram in sample.grams:
                self.index.setdefault(gram, []).append(sid)
        self.by_size = {}
        for gram in self.index:
            self.by_size.setdefault(len(gram), set()).add(gram)
        self.by_size = {n: frozenset(g) for n, g in self.by_size.items()}
        self.reset()

    def reset(self):
        self.best = [Match(0.0, None) for _ in self.samples]
        self.with_label = [None] * len(self.samples)   # place of a document that also gives the answer
        self.documents = 0
        self.chars = 0

    def scan_file(self, path, text_field):
        """The evidence of one corpus file alone (from a fresh state): best matches, places that
        give the answer, documents and characters read."""
        self.reset()
        for place, text in iter_documents(path, text_field):
            self.scan(place, text)
        return self.best, self.with_label, self.documents, self.chars

    def merge(self, evidence):
        """Add one file's evidence; merged in corpus order, the result equals one serial scan."""
        best, with_label, documents, chars = evidence
        for sid, (match, place) in enumerate(zip(best, with_label)):
            if match.overlap > self.best[sid].overlap:
                self.best[sid] = match
            if self.with_label[sid] is None:
                self.with_label[sid] = place
        self.documents += documents
        self.chars += chars

    def scan(self, place, text):
        """Look at one corpus document."""
        self.documents += 1
        self.chars += len(text)
        kept = text_gram_tokens(text)
        counts = {}
        for n, grams in self.by_size.items():
            for gram in grams.intersection(iter_ngrams(kept, n)):
                for sid in self.index[gram]:
                    counts[sid] = counts.get(sid, 0) + 1
        for sid, count in counts.items():
            sample = self.samples[sid]
            share = count / len(sample.grams)
            if share > self.best[sid].overlap:
                self.best[sid] = Match(share, place)
            if share >= self.input_threshold and self.with_label[sid] is None \
                    and self.gives_answer(sample, tokens(text), kept):
                self.with_label[sid] = place

    def gives_answer(self, sample, toks, kept):
        """Whether the document (``toks``; ``kept``: its n-gram tokens) states the sample's answer
        right after the sample's input."""
        last = max((i + sample.n - 1 for i, gram in enumerate(iter_ngrams(kept, sample.n)) if gram in sample.grams),
                   default=None)
        if last is None:
            return False
        end = gram_positions(toks)[last] + 1
        window = toks[end:end + ANSWER_REACH + 2 * len(sample.label_tokens)]
        if sample.letter is not None:
            return self._answer_cue_with(window, sample)
        if not sample.label_tokens:
            return False
        n = sample.n  # a long answer is measured like its input; a short one must appear whole
        if len(sample.label_tokens) < 2 * n:
            return contains_run(window, sample.label_tokens)
        label = ngrams(sample.label_tokens, n)
        return len(label.intersection(iter_ngrams(window, n))) / len(label) >= self.label_threshold

    @staticmethod
    def _answer_cue_with(window, sample):
        """An answer cue followed, within a few tokens, by the right letter or option text."""
        option = sample.label_tokens
        for i in range(len(window)):
            for cue in ANSWER_CUES:
                if tuple(window[i:i + len(cue)]) != cue:
                    continue
                after = window[i + len(cue):i + len(cue) + 3 + len(option)]
                if sample.letter in after[:3]:
                    return True
                if option and any(after[j:j + len(option)] == option for j in range(3)):
                    return True
        return False

    def label_of(self, sid):
        if self.best[sid].overlap < self.input_threshold:
            return CLEAN
        return INPUT_AND_LABEL if self.with_label[sid] else INPUT

    def record(self, sid):
        sample, best = self.samples[sid], self.best[sid]
        entry = {'index': sample.index, 'label': self.label_of(sid), 'input_overlap': round(best.overlap, 4),
                 'ngram': sample.n}
        if best.place and entry['label'] != CLEAN:
            entry['source'] = self.with_label[sid] or best.place
        if sample.n is None:
            entry['note'] = 'input too short to judge'
        return entry


def annotate(dataset_cfgs, corpus, text_field='text', data_root=None, word_n=WORD_N, char_n=CHAR_N,
             input_threshold=0.5, label_threshold=0.5, workers=1, progress_every=256 << 20):
    """Stream ``corpus`` (file paths) past the datasets' samples; returns the annotation dict.
    ``workers`` > 1 scans that many files at once, in separate processes."""
    for name, value in (('word_n', word_n), ('char_n', char_n), ('workers', workers)):
        if value < 1:
            raise EvalkitError(f'{name}={value}: give a whole number of 1 or more')
    check_corpus(corpus, text_field)
    per_dataset = benchmark_samples(dataset_cfgs, data_root, word_n, char_n)
    samples = [s for _, rows in per_dataset.values() for s in rows]
    scanner = OverlapScanner(samples, input_threshold, label_threshold)
    logger.info('contamination: %d samples of %d dataset(s), %d distinct n-grams; scanning %d file(s)',
                len(samples), len(per_dataset), len(scanner.index), len(corpus))
    started = time.perf_counter()
    if workers > 1 and len(corpus) > 1:
        documents = _scan_in_parallel(scanner, corpus, text_field, workers, started)
    else:
        documents = _scan_serially(scanner, corpus, text_field, started, progress_every)
    files = [{'path': os.path.abspath(p), 'bytes': os.path.getsize(p), 'documents': n}
             for p, n in zip(corpus, documents)]
    seconds = time.perf_counter() - started
    datasets, sid = {}, 0
    for abbr, (split, rows) in per_dataset.items():
        entries = [scanner.record(sid + i) for i in range(len(rows))]
        sid += len(rows)
        datasets[abbr] = {'split': split, 'num_samples': len(entries),
                          'counts': {label: sum(e['label'] == label for e in entries) for label in LABELS},
                          'samples': entries}
    return {
        'format': ANNOTATION_FORMAT, 'version': 1,
        'settings': {'word_n': word_n, 'char_n': char_n, 'input_threshold': input_threshold,
                     'label_threshold': label_threshold, 'text_field': text_field},
        'corpus': {'files': files, 'documents': scanner.documents, 'characters': scanner.chars,
                   'seconds': round(seconds, 3)},
        'datasets': datasets,
    }


def _scan_serially(scanner, corpus, text_field, started, progress_every):
    """Documents per file; the scanner holds the evidence."""
    documents, next_report = [], progress_every
    for path in corpus:
        before = scanner.documents
        for place, text in iter_documents(path, text_field):
            scanner.scan(place, text)
            if scanner.chars >= next_report:
                logger.info('contamination: %.0f M characters read in %.0f s', scanner.chars / 1e6,
                            time.perf_counter() - started)
                next_report += progress_every
        documents.append(scanner.documents - before)
    return documents


_WORKER_SCANNER = None   # the index, inherited by forked workers rather than sent to each


def _scan_one(path, text_field):
    return _WORKER_SCANNER.scan_file(path, text_field)


def _scan_in_parallel(scanner, corpus, text_field, workers, started):
    """One file per worker process at a time, the evidence merged in corpus order."""
    global _WORKER_SCANNER
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    _WORKER_SCANNER = scanner
    documents = []
    try:
        with ProcessPoolExecutor(min(workers, len(corpus)), mp_context=multiprocessing.get_context('fork')) as pool:
            for path, evidence in zip(corpus, pool.map(_scan_one, corpus, [text_field] * len(corpus))):
                scanner.merge(evidence)
                documents.append(evidence[2])
                logger.info('contamination: %s done (%.0f M characters read in %.0f s)', path,
                            scanner.chars / 1e6, time.perf_counter() - started)
    finally:
        _WORKER_SCANNER = None
    return documents
