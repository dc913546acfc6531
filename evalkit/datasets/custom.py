"""A user's own questions in a JSONL or CSV file, evaluated with no code
(``python run.py --custom-dataset-path my.jsonl --hf-path ...``).

The columns of the file's first row say what it is: ``question``, options ``A``, ``B``, ...
(contiguous from A) and ``answer`` make a multiple-choice set (``mcq``); ``question`` and ``answer``
an open-question set (``qa``). A sidecar ``my.jsonl.meta.json`` overrides what is detected, and
the ``--custom-dataset-*`` flags override the sidecar.

Prompts and scoring follow OpenCompass's custom datasets, so the scores can be put side by side:

- mcq, gen: HUMAN ``Question: {question}\\nA. {A}\\nB. {B}...``, BOT ``Answer: {answer}``, scored
  by ``OptionSimAccEvaluator``: an answer that is an option letter or states one, else the one
  option whose text it contains, else the option it is closest to in edit distance.
- mcq, ppl: the same rounds with each option letter as the answer; the most likely one wins
  (``AccEvaluator``).
- qa, gen: HUMAN ``{question}``, BOT ``{answer}``; ``AccEvaluator`` (the answer text equals the
  gold text).

In-context examples (``shots`` in the sidecar) come from a dev file when one is given, else from
the first ``shots`` rows of the file, which then leave the test set.
"""
import csv
import difflib
import json
import string
from pathlib import Path

from datasets import Dataset, DatasetDict

from ..openicl import AccEvaluator, FixKRetriever, GenInferencer, PPLInferencer, PromptTemplate, ZeroRetriever
from ..openicl.evaluators import BaseEvaluator
from ..openicl.postprocessors import first_option_postprocess
from ..openicl.prompt_template import fill
from ..registry import accepted_kwargs, resolve
from ..utils.errors import EvalkitError
from ..utils.fileio import read_jsonl
from .base import BaseDataset

DATA_TYPES = ('mcq', 'qa')
INFER_METHODS = ('gen', 'ppl')
META_KEYS = ('abbr', 'data_type', 'infer_method', 'input_columns', 'output_column', 'options',
             'human_prompt', 'bot_prompt', 'template', 'evaluator', 'evaluator_kwargs',
             'pred_postprocessor', 'shots', 'dev_path', 'max_out_len', 'test_range')
ICE_TOKEN = '</E>'
DEFAULT_DEV_SHOTS = 5  # with a dev file and no ``shots``: the usual 5-shot, or the whole file if shorter


# ---------------------------------------------------------------------------- reading files
def read_rows(path):
    """(line number, row dict) for every row of a ``.jsonl`` or ``.csv`` file, values as read."""
    path = Path(path)
    reader = {'.jsonl': _jsonl_rows, '.csv': _csv_rows}.get(path.suffix.lower())
    if reader is None:
        raise EvalkitError(f"{path}: unknown file type {path.suffix or '(no extension)'!r}: "
                           'give a .jsonl file (one JSON object a line) or a .csv file with a header')
    if not path.is_file():
        raise EvalkitError(f'{path}: file not found (relative paths resolve against the current directory)')
    try:
        rows = reader(path)
    except UnicodeDecodeError as exc:
        raise EvalkitError(f'{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8') from exc
    if not rows:
        raise EvalkitError(f'{path}: the file is empty: it holds no rows')
    return rows


def _jsonl_rows(path):
    return read_jsonl(path, encoding='utf-8-sig')


def _csv_rows(path):
    rows, header = [], None
    with open(path, encoding='utf-8-sig', newline='') as f:
        reader = csv.reader(f)
        try:
            while True:
                start = reader.line_num + 1  # a quoted field may span lines: name the first
                record = next(reader, None)
                if record is None:
                    break
                if not any(field.strip() for field in record):
                    continue
                if header is None:
                    header = _csv_header(path, start, record)
                elif len(record) != len(header):
                    raise EvalkitError(f'{path}: line {start}: {len(record)} fields, but the header has '
                                       f'{len(header)}: quote a field that holds a comma')
                else:
                    rows.append((start, {k: v for k, v in zip(header, record) if k}))
        except csv.Error as exc:
            raise EvalkitError(f'{path}: line {reader.line_num}: not valid CSV ({exc})') from exc
    return rows


def _csv_header(path, line, record):
    header = [name.strip() for name in record]
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:
        raise EvalkitError(f'{path}: line {line}: column {twice[0]!r} appears twice in the header')
    return header  # an unnamed column (a pandas index) is left out of the rows


def checked_rows(path, columns, output_column, options=()):
    """The rows of a file as text, each checked to hold ``columns`` and, for multiple choice,
    an answer among ``options``; an error names the file, line and field."""
    rows = []
    for n, row in read_rows(path):
        missing = [c for c in columns if c not in row]
        if missing:
            raise EvalkitError(f'{path}: line {n}: field {missing[0]!r} missing')
        row = {c: _text(row[c]) for c in columns}
        if not row[output_column].strip():
            raise EvalkitError(f'{path}: line {n}: field {output_column!r} is empty')
        if options:
            row[output_column] = row[output_column].strip()
            if row[output_column] not in options:
                raise EvalkitError(f'{path}: line {n}: {output_column} {row[output_column]!r} is not one of '
                                   f'the options {_span(options)}')
        rows.append(row)
    return rows


def _text(value):
    """A cell as text: JSON numbers and lists become their JSON spelling, null becomes ''."""
    if value is None:
        return ''
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _span(options):
    letters = ''.join(options)
    return f'{letters[0]}-{letters[-1]}' if letters in string.ascii_uppercase else ', '.join(options)


def detected_options(columns):
    """Option columns A, B, C, ... contiguous from A."""
    options = []
    for letter in string.ascii_uppercase:
        if letter not in columns:
            break
        options.append(letter)
    return options


# ---------------------------------------------------------------------------- the loader
class CustomDataset(BaseDataset):
    """The rows of a user's file (split ``test``) and its in-context examples (split ``dev``)."""

    @classmethod
    def required_files(cls, path, dev_path=None, **kwargs):
        return [Path(p) for p in (path, dev_path) if p]

    @classmethod
    def fix_hint(cls):
        return ('Check the file given to --custom-dataset-path '
                '(relative paths resolve against the current directory).')

    @classmethod
    def check(cls, path, **kwargs):
        """Every row is checked before a model loads: a bad line 900 must not cost a run."""
        super().check(path, **kwargs)
        cls.load(path, **kwargs)

    @classmethod
    def load(cls, path, name=None, data_root=None, input_columns=(), output_column='answer', options=(),
             shots=0, dev_path=None, **kwargs):
        columns = list(dict.fromkeys([*input_columns, output_column]))
        test = checked_rows(path, columns, output_column, options)
        if dev_path:
            dev = checked_rows(dev_path, columns, output_column, options)
            if len(dev) < shots:
                raise EvalkitError(f'{dev_path}: {len(dev)} rows, fewer than shots={shots}')
        else:
            dev, test = test[:shots], test[shots:]
            if not test:
                raise EvalkitError(f'{path}: all {len(dev)} rows are taken as in-context examples '
                                   f'(shots={shots}): give a dev file, or fewer shots')
        return DatasetDict(dev=Dataset.from_list(dev), test=Dataset.from_list(test))


# ---------------------------------------------------------------------------- scoring
class OptionSimAccEvaluator(BaseEvaluator):
    """Accuracy of multiple-choice answers written freely, as OpenCompass scores its custom
    datasets: the answer is an option letter, or the first one it states; else the one option
    whose text it contains; else the option (letter, text, or "B. text") nearest in edit distance.

    ``dataset`` holds the loader's arguments: the option texts are read from the test rows.
    """

    correct_metric = 'accuracy'

    def __init__(self, options, dataset, **kwargs):
        super().__init__(**kwargs)
        self.options = list(options)
        self.dataset = dict(dataset)

    def test_rows(self):
        from ..tasks.base import apply_range
        settings = dict(self.dataset)
        test_range = settings.pop('test_range', None)
        return apply_range(list(CustomDataset.load(**settings)['test']), test_range)

    def parse(self, prediction, row):
        text = str(prediction).strip()
        if text in self.options:
            return text
        stated = first_option_postprocess(text, ''.join(self.options), cushion=False)
        if stated:
            return stated
        named = [o for o in self.options if row[o] and row[o].lower() in text.lower()]
        if len(named) == 1:
            return named[0]
        def distance(option):
            return min(edit_distance(text, c) for c in (option, row[option], f'{option}. {row[option]}'))
        return min(self.options, key=lambda o: (distance(o), o))

    def sample_scores(self, predictions, references):
        rows = self.test_rows()
        if len(rows) != len(predictions):
            raise EvalkitError(f'{self.dataset.get("path")} now has {len(rows)} test rows but there are '
                               f'{len(predictions)} predictions: was the file changed after inference?')
        return {'accuracy': [float(self.parse(p, row) == str(r).strip())
                             for p, r, row in zip(predictions, references, rows)]}


def edit_distance(a, b):
    """Levenshtein distance: insertions, deletions and substitutions, one each."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


# ---------------------------------------------------------------------------- the dataset config
def read_meta(path):
    """A sidecar's settings; unknown keys are errors (a misspelt key must not be ignored)."""
    path = Path(path)
    if not path.is_file():
        raise EvalkitError(f'{path}: meta file not found')
    try:
        meta = json.loads(path.read_text(encoding='utf-8-sig'))
    except json.JSONDecodeError as exc:
        raise EvalkitError(f'{path}: line {exc.lineno}: not valid JSON ({exc.msg})') from exc
    if not isinstance(meta, dict):
        raise EvalkitError(f'{path}: a meta file holds one JSON object ({{"abbr": ..., ...}})')
    for key in meta:
        if key not in META_KEYS:
            close = difflib.get_close_matches(key, META_KEYS, n=1)
            hint = f'did you mean {close[0]!r}?' if close else f'known keys: {", ".join(META_KEYS)}'
            raise EvalkitError(f'{path}: unknown key {key!r} ({hint})')
    if meta.get('dev_path'):
        meta['dev_path'] = str(path.parent / meta['dev_path'])  # next to the meta file
    return meta


def custom_dataset_cfg(path, meta_path=None, dev_path=None, data_type=None, infer_method=None):
    """The dataset dict for one file: what its columns say, then its meta file (``meta_path``, or
    ``<file>.meta.json`` when there), then the arguments given (the command-line flags)."""
    path = Path(path).expanduser().absolute()
    meta, source = merged_meta(path, meta_path, dict(
        dev_path=dev_path and str(Path(dev_path).expanduser().absolute()),
        data_type=data_type, infer_method=infer_method))
    layout = file_layout(path, source, meta)
    settings = dict(path=str(path), dev_path=meta.get('dev_path'), shots=layout.pop('shots'),
                    input_columns=layout['input_columns'], output_column=layout['output_column'],
                    options=layout['options'])
    CustomDataset.check(**settings)  # every row, before any model loads
    reader_cfg = dict(input_columns=settings['input_columns'], output_column=settings['output_column'],
                      train_split='dev', test_split='test')
    if meta.get('test_range') is not None:
        reader_cfg['test_range'] = meta['test_range']
    return dict(abbr=meta.get('abbr') or path.stem, type=CustomDataset, **settings, reader_cfg=reader_cfg,
                infer_cfg=_infer_cfg(source, meta, layout, settings['shots']),
                eval_cfg=_eval_cfg(source, meta, layout, settings))


def merged_meta(path, meta_path, given):
    """(settings, the file an error about them names): the meta file's, then those ``given``."""
    sidecar = Path(f'{path}.meta.json')
    if meta_path:
        meta_path = Path(meta_path).expanduser().absolute()
    elif sidecar.is_file():
        meta_path = sidecar
    meta = read_meta(meta_path) if meta_path else {}
    meta.update({k: v for k, v in given.items() if v is not None})
    return meta, meta_path or path


def file_layout(path, source, meta):
    """Kind, inference method, columns, options and shots, from the first row and the settings."""
    first_line, first = read_rows(path)[0]
    columns = list(first)
    data_type = meta.get('data_type') or ('mcq' if len(detected_options(columns)) > 1 else 'qa')
    infer_method = meta.get('infer_method') or 'gen'
    _check_choice(source, 'data_type', data_type, DATA_TYPES)
    _check_choice(source, 'infer_method', infer_method, INFER_METHODS)
    options = [str(o) for o in meta.get('options') or detected_options(columns)] if data_type == 'mcq' else []
    if data_type == 'mcq' and len(options) < 2:
        raise EvalkitError(f'{path}: multiple choice needs option columns A, B, ... (the first row has '
                           f'{", ".join(columns)})')
    if infer_method == 'ppl' and data_type != 'mcq':
        raise EvalkitError(f'{path}: ppl scores the options of a multiple-choice file (columns A, B, ...); '
                           'this file is open questions (qa): use gen')
    output_column = meta.get('output_column') or 'answer'
    input_columns = list(meta.get('input_columns') or [c for c in columns if c != output_column])
    uses_question = not (meta.get('template') or meta.get('human_prompt'))
    for column in [output_column, *options, *(['question'] if uses_question else []), *input_columns]:
        if column not in first:
            raise EvalkitError(f'{path}: line {first_line}: field {column!r} missing')
    shots = meta.get('shots')
    if shots is None:
        shots = min(DEFAULT_DEV_SHOTS, len(read_rows(meta['dev_path']))) if meta.get('dev_path') else 0
    _check_count(source, 'shots', shots, minimum=0)
    return dict(data_type=data_type, infer_method=infer_method, options=options,
                output_column=output_column, input_columns=input_columns, shots=shots)


def _check_choice(source, key, value, choices):
    if value not in choices:
        raise EvalkitError(f'{source}: {key} {value!r} is not one of {", ".join(choices)}')


def _check_count(source, key, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise EvalkitError(f'{source}: {key} must be a whole number of at least {minimum}, not {value!r}')


def _infer_cfg(source, meta, layout, shots):
    infer_method, options = layout['infer_method'], layout['options']
    template = meta.get('template') or _rounds_template(meta, **layout)
    if infer_method == 'ppl' and sorted(template) != sorted(options):
        raise EvalkitError(f'{source}: a ppl template is keyed by the options {_span(options)}, '
                           'one prompt each')
    inferencer = dict(type=GenInferencer if infer_method == 'gen' else PPLInferencer)
    if meta.get('max_out_len') is not None:
        _check_count(source, 'max_out_len', meta['max_out_len'], minimum=1)
        inferencer['max_out_len'] = meta['max_out_len']
    if not shots:
        return dict(prompt_template=dict(type=PromptTemplate, template=template),
                    retriever=dict(type=ZeroRetriever), inferencer=inferencer)
    return dict(ice_template=dict(type=PromptTemplate, template=_with_examples(template),
                                  ice_token=ICE_TOKEN),
                retriever=dict(type=FixKRetriever, fix_id_list=list(range(shots))), inferencer=inferencer)


def _rounds_template(meta, data_type, infer_method, options, output_column, **unused):
    """OpenCompass's custom-dataset prompt: one HUMAN round and one BOT round."""
    if data_type == 'mcq':
        human = 'Question: {question}' + ''.join(f'\n{o}. {{{o}}}' for o in options)
        bot = f'Answer: {{{output_column}}}'
    else:
        human, bot = '{question}', f'{{{output_column}}}'
    human, bot = meta.get('human_prompt', human), meta.get('bot_prompt', bot)

    def rounds(bot_prompt):
        return dict(round=[dict(role='HUMAN', prompt=human), dict(role='BOT', prompt=bot_prompt)])
    if infer_method == 'ppl':
        return {o: rounds(fill(bot, {output_column: o})) for o in options}
    return rounds(bot)


def _with_examples(template):
    """The template with the in-context examples' place (``</E>``) in front, unless it has one."""
    if ICE_TOKEN in json.dumps(template):
        return template
    if isinstance(template, str):
        return ICE_TOKEN + template
    if 'round' not in template:  # keyed by option (ppl)
        return {label: _with_examples(t) for label, t in template.items()}
    begin = template.get('begin')
    begin = [] if begin is None else (begin if isinstance(begin, list) else [begin])
    return dict(template, begin=[*begin, ICE_TOKEN])


def _eval_cfg(source, meta, layout, settings):
    data_type, infer_method, options = layout['data_type'], layout['infer_method'], layout['options']
    if meta.get('evaluator'):
        evaluator = _type_cfg(source, 'evaluator', meta['evaluator'])
        evaluator.update(meta.get('evaluator_kwargs') or {})
    elif data_type == 'mcq' and infer_method == 'gen':
        evaluator = dict(type=OptionSimAccEvaluator, options=options,
                         dataset=dict(settings, test_range=meta.get('test_range')))
    else:
        evaluator = dict(type=AccEvaluator)
    eval_cfg = dict(evaluator=evaluator)
    if meta.get('pred_postprocessor'):
        post = _type_cfg(source, 'pred_postprocessor', meta['pred_postprocessor'])
        takes_options = 'options' in accepted_kwargs(resolve(post['type']), {'options': None})
        if options and takes_options and 'options' not in post:
            post['options'] = ''.join(options)  # first_option_postprocess looks for these letters
        eval_cfg['pred_postprocessor'] = post
    return eval_cfg


def _type_cfg(source, key, value):
    """``"Name"`` or ``{"type": "Name", ...}`` from a meta file, its type checked to exist now."""
    cfg = dict(type=value) if isinstance(value, str) else dict(value) if isinstance(value, dict) else {}
    if not isinstance(cfg.get('type'), str):
        raise EvalkitError(f'{source}: {key} is a type name, e.g. "AccEvaluator", or {{"type": ..., ...}}')
    try:
        resolve(cfg['type'])
    except EvalkitError as exc:
        raise EvalkitError(f'{source}: {key}: {exc}') from exc
    return cfg
