# C-Eval val, zero-shot, generative; the first option letter given as the answer is scored.
from evalkit.datasets.ceval import ceval_dataset_cfgs

ceval_datasets = ceval_dataset_cfgs(mode='gen', shots=0, split='val')
