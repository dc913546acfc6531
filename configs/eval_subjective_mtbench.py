# MT-Bench: SmolLM2 answers the 80 two-turn questions, one turn at a time, and SmolLM2 as judge
# rates the second answer 1-10 with FastChat's prompts (against GPT-4's reference answers for
# math, reasoning and coding). The summary gives the mean rating per category and overall.
#   python run.py configs/eval_subjective_mtbench.py --debug
# FastChat samples writing and roleplay at temperature 0.7, stem and humanities at 0.1: an API
# model applies these; evalkit's Hugging Face backend decodes greedily (the log says so).
# Answers are cut at 256 tokens here to keep a CPU run short; OpenCompass's standard is 1024.
from mmengine.config import read_base

from evalkit.datasets.subjective import mtbench_dataset_cfgs
from evalkit.partitioners import SubjectiveNaivePartitioner
from evalkit.summarizers import SubjectiveSummarizer

with read_base():
    from .models.smollm2_135m_instruct_judge import judge_models

mtbench_datasets = mtbench_dataset_cfgs(max_out_len=256)
models = [dict(m) for m in judge_models]

eval = dict(partitioner=dict(type=SubjectiveNaivePartitioner, models=models, judge_models=judge_models))
summarizer = dict(type=SubjectiveSummarizer)
