# MMLU test, zero-shot, generative: the model reasons step by step; the letter after "ANSWER:" is scored.
from evalkit.datasets.mmlu import mmlu_dataset_cfgs

mmlu_datasets = mmlu_dataset_cfgs(mode='gen', split='test')
