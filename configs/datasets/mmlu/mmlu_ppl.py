# MMLU test, 5-shot from dev as plain text; the option whose full text has the lowest perplexity wins.
from evalkit.datasets.mmlu import mmlu_dataset_cfgs

mmlu_datasets = mmlu_dataset_cfgs(mode='ppl', split='test')
