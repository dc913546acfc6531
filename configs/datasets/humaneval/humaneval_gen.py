# HumanEval, zero-shot: the model writes the function; pass@1 of its code against the tests.
from evalkit.datasets.humaneval import humaneval_dataset_cfgs

humaneval_datasets = humaneval_dataset_cfgs()
