# C-Eval test (unlabelled): 5-shot perplexity predictions for submission; no scores.
from evalkit.datasets.ceval import ceval_dataset_cfgs

ceval_test_datasets = ceval_dataset_cfgs(mode='ppl', shots=5, split='test')
