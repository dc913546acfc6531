# AlignBench v1.1 (683 questions, 8 categories), judged with the CritiqueLLM prompt against the
# reference answers, as OpenCompass's alignbench_v1_1_judgeby_critiquellm config.
from evalkit.datasets.subjective import alignbench_dataset_cfgs

alignbench_datasets = alignbench_dataset_cfgs('alignment_bench_v1_1')
