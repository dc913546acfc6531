"""HumanEval: ``<data-root>/humaneval/human-eval-v2-20210705.jsonl``, the official
``HumanEval.jsonl.gz`` decompressed (the file name OpenCompass reads).

Each line is one problem: ``task_id``, ``prompt`` (signature and docstring), ``canonical_solution``,
``test`` (a ``check(candidate)`` function) and ``entry_point``. The loader adds ``reference``, the
dict ``PassAtKEvaluator`` runs a completion with.
"""
import re

from datasets import Dataset

from ..utils.errors import EvalkitError
from ..utils.fileio import read_jsonl
from ..utils.paths import resolve_data_path
from .base import BaseDataset

HUMANEVAL_PATH = './data/humaneval/human-eval-v2-20210705.jsonl'
HUMANEVAL_FIELDS = ('task_id', 'prompt', 'canonical_solution', 'test', 'entry_point')
HUMANEVAL_INSTRUCTION = ('Read the following function signature and docstring, and fully implement '
                         'the function described. Your response should only contain the code for '
                         'this function.')


class HumanevalDataset(BaseDataset):

    @classmethod
    def required_files(cls, path=HUMANEVAL_PATH, name=None, data_root=None, **kwargs):
        return [resolve_data_path(path, data_root)]

    @classmethod
    def fix_hint(cls):
        return ('Put HumanEval there with: python tools/prepare_data.py humaneval --source '
                'HumanEval.jsonl.gz (or point --data-root / EVALKIT_DATA_ROOT at a data root that holds it).')

    @classmethod
    def load(cls, path=HUMANEVAL_PATH, name=None, data_root=None, **kwargs):
        cls.check(path, data_root=data_root)
        return Dataset.from_list(read_humaneval_jsonl(resolve_data_path(path, data_root)))


def read_humaneval_jsonl(file):
    """The problems of one HumanEval file, each with its ``reference``; a malformed line names itself."""
    rows = []
    for n, row in read_jsonl(file):
        for field in HUMANEVAL_FIELDS:
            if not isinstance(row.get(field), str):
                raise EvalkitError(f'{file}: line {n}: field {field!r} is missing or not text')
        row = {field: row[field] for field in HUMANEVAL_FIELDS}
        row['reference'] = {k: row[k] for k in ('prompt', 'test', 'entry_point')}
        rows.append(row)
    return rows


def humaneval_postprocess(text):
    """The first fenced code block of the answer if there is one, else the answer; leading
    whitespace removed (OpenCompass's ``humaneval_postprocess_v2``). It is run after the prompt,
    so a completion may repeat the whole function."""
    blocks = re.findall(r'```\w*\n(.*?)```', text, re.DOTALL)
    return (blocks[0] if blocks else text).lstrip()


def humaneval_dataset_cfgs():
    """HumanEval as OpenCompass's standard config asks it: the instruction and the problem's
    prompt; pass@1 of the code the answer holds."""
    from ..openicl import GenInferencer, PromptTemplate, ZeroRetriever
    # The user's turn ends with a line break, as OpenCompass's chat models receive it.
    human = HUMANEVAL_INSTRUCTION + '\n{prompt}\n'
    return [dict(
        abbr='openai_humaneval', type=HumanevalDataset, path=HUMANEVAL_PATH,
        reader_cfg=dict(input_columns=['prompt'], output_column='reference',
                        train_split='test', test_split='test'),
        infer_cfg=dict(
            prompt_template=dict(type=PromptTemplate,
                                 template=dict(round=[dict(role='HUMAN', prompt=human)])),
            retriever=dict(type=ZeroRetriever), inferencer=dict(type=GenInferencer)),
        eval_cfg=dict(evaluator=dict(type='PassAtKEvaluator', k=[1]),
                      pred_postprocessor=dict(type=humaneval_postprocess)),
    )]
