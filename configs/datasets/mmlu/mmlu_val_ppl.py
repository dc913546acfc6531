# MMLU val (1,531 questions, a tenth of test): the prompts of mmlu_ppl, for quicker runs.
from evalkit.datasets.mmlu import mmlu_dataset_cfgs

mmlu_val_datasets = mmlu_dataset_cfgs(mode='ppl', split='val')
