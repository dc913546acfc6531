# Score mode: SmolLM2 answers the subjective demo questions (one of them a two-turn dialogue), then
# SmolLM2 as judge rates every answer 1-10; the summary gives the mean rating per capability and
# overall, and the count of judgements without a usable rating.
#   python run.py configs/eval_subjective_score.py --debug
# Use your own questions: a JSON list of {"question", "capability", "others": {"reference"}} items
# (see docs/subjective.md); judge with a stronger model by changing judge_models.
from mmengine.config import read_base

from evalkit.partitioners import SubjectiveNaivePartitioner
from evalkit.summarizers import SubjectiveSummarizer

with read_base():
    from .datasets.subjective.demo.subjective_demo_score import subjective_demo_score_datasets
    from .models.smollm2_135m_instruct_judge import judge_models

# The same config answers and judges, so a --debug run loads the model once.
models = [dict(m) for m in judge_models]

eval = dict(partitioner=dict(type=SubjectiveNaivePartitioner, models=models, judge_models=judge_models))
summarizer = dict(type=SubjectiveSummarizer)
