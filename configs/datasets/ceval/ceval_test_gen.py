# C-Eval test (unlabelled): 5-shot generative predictions for submission; no scores.
from evalkit.datasets.ceval import ceval_dataset_cfgs

ceval_test_datasets = ceval_dataset_cfgs(mode='gen', shots=5, split='test')
