# C-Eval val, 5-shot from dev, generative; the first capital letter of the answer is scored.
from evalkit.datasets.ceval import ceval_dataset_cfgs

ceval_datasets = ceval_dataset_cfgs(mode='gen', shots=5, split='val')
