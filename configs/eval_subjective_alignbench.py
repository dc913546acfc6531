# AlignBench v1.1: SmolLM2 answers the 683 Chinese questions; SmolLM2 as judge rates each answer
# per dimension and overall (CritiqueLLM's prompt, with the reference answer). The summary gives
# the mean rating per category, the 中文推理 and 中文语言 groups and their mean (总分), per
# dimension, and the count of judgements without a usable rating.
#   python run.py configs/eval_subjective_alignbench.py --debug
# tools/convert_alignmentbench.py --mode csv --exp-folder <run> writes the answers for submission.
from mmengine.config import read_base

from evalkit.partitioners import SubjectiveNaivePartitioner
from evalkit.summarizers import SubjectiveSummarizer

with read_base():
    from .datasets.subjective.alignbench.alignbench_v1_1_judgeby_critiquellm import alignbench_datasets
    from .models.smollm2_135m_instruct_judge import judge_models

models = [dict(m) for m in judge_models]

eval = dict(partitioner=dict(type=SubjectiveNaivePartitioner, models=models, judge_models=judge_models))
summarizer = dict(type=SubjectiveSummarizer)
