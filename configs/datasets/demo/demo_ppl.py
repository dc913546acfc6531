# The bilingual demo set shipped with evalkit, 2-shot, perplexity.
from evalkit.datasets.demo import demo_dataset_cfgs

demo_datasets = demo_dataset_cfgs(mode='ppl')
