# CMMLU test, 5-shot from dev; the option whose full text has the lowest perplexity wins.
from evalkit.datasets.cmmlu import cmmlu_dataset_cfgs

cmmlu_datasets = cmmlu_dataset_cfgs(mode='ppl')
