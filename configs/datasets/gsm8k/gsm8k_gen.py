# GSM8K test, four worked examples as chat rounds; the last number of the answer is scored.
from evalkit.datasets.gsm8k import gsm8k_dataset_cfgs

gsm8k_datasets = gsm8k_dataset_cfgs(max_out_len=512)
