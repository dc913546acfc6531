# CMMLU test, zero-shot, generative: the model reasons step by step; the letter after "答案:" is scored.
from evalkit.datasets.cmmlu import cmmlu_dataset_cfgs

cmmlu_datasets = cmmlu_dataset_cfgs(mode='gen')
