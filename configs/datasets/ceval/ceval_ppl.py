# C-Eval val, 5-shot from dev; the option whose full text has the lowest perplexity wins.
from evalkit.datasets.ceval import ceval_dataset_cfgs

ceval_datasets = ceval_dataset_cfgs(mode='ppl', shots=5, split='val')
