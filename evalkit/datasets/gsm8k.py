"""GSM8K: ``<data-root>/gsm8k/{train,test}.jsonl``, the files of the official repository.

Each line holds ``question`` and ``answer``: a worked solution with calculator notes
(``<<48/2=24>>``) that ends in ``#### <number>``. The loader adds ``solution``, the same solution
as a model is shown it in the examples: without the notes, ending in ``The answer is <number>``.
"""
import re

from datasets import Dataset, DatasetDict

from ..utils.errors import EvalkitError
from ..utils.fileio import read_jsonl
from ..utils.paths import resolve_data_path
from .base import BaseDataset

GSM8K_SPLITS = ('train', 'test')
GSM8K_PATH = './data/gsm8k'
# The training rows OpenCompass's standard prompt shows as its four worked examples, in its order.
GSM8K_EXAMPLE_IDS = (7364, 1708, 669, 6724)
GSM8K_QUESTION = "Question: {question}\nLet's think step by step\nAnswer:"


class GSM8KDataset(BaseDataset):

    @staticmethod
    def _file(path, split, data_root=None):
        return resolve_data_path(path, data_root) / f'{split}.jsonl'

    @classmethod
    def required_files(cls, path=GSM8K_PATH, name=None, data_root=None, **kwargs):
        return [cls._file(path, split, data_root) for split in GSM8K_SPLITS]

    @classmethod
    def fix_hint(cls):
        return ('Put GSM8K there with: python tools/prepare_data.py gsm8k --source '
                'grade-school-math-master.zip (or point --data-root / EVALKIT_DATA_ROOT at a data '
                'root that holds it).')

    @classmethod
    def load(cls, path=GSM8K_PATH, name=None, data_root=None, **kwargs):
        cls.check(path, data_root=data_root)
        return DatasetDict({split: Dataset.from_list(read_gsm8k_jsonl(cls._file(path, split, data_root)))
                            for split in GSM8K_SPLITS})


def read_gsm8k_jsonl(file):
    """Rows of one GSM8K file (question, answer, solution); a malformed line names itself."""
    rows = []
    for n, row in read_jsonl(file):
        for field in ('question', 'answer'):
            if not isinstance(row.get(field), str):
                raise EvalkitError(f'{file}: line {n}: field {field!r} is missing or not text')
        if '#### ' not in row['answer']:
            raise EvalkitError(f"{file}: line {n}: field 'answer' lacks the final '#### <number>'")
        rows.append(dict(question=row['question'], answer=row['answer'],
                         solution=gsm8k_solution(row['answer'])))
    return rows


def gsm8k_solution(answer):
    """A solution as the examples show it: no calculator notes, ``The answer is N`` at the end."""
    steps, _, number = answer.rpartition('\n#### ')
    return re.sub(r'<<[^>]*>>', '', steps) + f'\nThe answer is {number}\n'


def gsm8k_postprocess(text):
    """The last number before the model starts a new ``Question:`` of its own; 'NULL' if none
    (OpenCompass's GSM8K answer extraction)."""
    numbers = re.findall(r'-?\d+\.\d+|-?\d+', text.split('Question:')[0])
    return numbers[-1] if numbers else 'NULL'


def gsm8k_dataset_postprocess(text):
    """The gold number: what follows ``#### ``, without thousands commas."""
    return text.split('#### ')[1].replace(',', '')


def gsm8k_dataset_cfgs(max_out_len=512):
    """GSM8K test as OpenCompass's standard config asks it: four worked examples from train as
    chat rounds, then the question; the last number of the answer is compared with the gold one."""
    from ..openicl import FixKRetriever, GenInferencer, PromptTemplate
    # The user's turn ends with a line break, as OpenCompass's chat models receive it.
    human = dict(role='HUMAN', prompt=GSM8K_QUESTION + '\n')
    return [dict(
        abbr='gsm8k', type=GSM8KDataset, path=GSM8K_PATH,
        reader_cfg=dict(input_columns=['question'], output_column='answer',
                        train_split='train', test_split='test'),
        infer_cfg=dict(
            ice_template=dict(type=PromptTemplate, template=dict(
                round=[human, dict(role='BOT', prompt='{solution}')])),
            prompt_template=dict(type=PromptTemplate, ice_token='</E>',
                                 template=dict(begin='</E>', round=[human])),
            retriever=dict(type=FixKRetriever, fix_id_list=list(GSM8K_EXAMPLE_IDS)),
            inferencer=dict(type=GenInferencer, max_out_len=max_out_len)),
        eval_cfg=dict(evaluator=dict(type='NumericMatchEvaluator'),
                      pred_postprocessor=dict(type=gsm8k_postprocess),
                      dataset_postprocessor=dict(type=gsm8k_dataset_postprocess)),
    )]
