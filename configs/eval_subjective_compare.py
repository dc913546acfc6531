# Compare mode: SmolLM2 through its chat template against SmolLM2 given plain text, judged by
# SmolLM2 with FastChat's pairwise prompt, every question in both orders (infer_order='double',
# which shows the judge's position bias and cancels it in the win rate); and both against GPT-4
# Turbo's AlpacaEval outputs (read from the data) on the first 20 AlpacaEval instructions (drop
# test_range for all 805), in a seeded random order.
#   python run.py configs/eval_subjective_compare.py --debug
from mmengine.config import read_base

from evalkit.models import HuggingFaceBaseModel
from evalkit.partitioners import SubjectiveNaivePartitioner
from evalkit.summarizers import SubjectiveSummarizer

with read_base():
    from .datasets.subjective.alpaca_eval.alpacav2_judgeby_gpt4 import alpacav2_datasets as _alpaca
    from .datasets.subjective.demo.subjective_demo_compare import subjective_demo_compare_datasets
    from .models.smollm2_135m_instruct_judge import judge_models

alpacav2_datasets = [dict(d, reader_cfg=dict(d['reader_cfg'], test_range='[0:20]')) for d in _alpaca]

models = [dict(judge_models[0]),
          dict(judge_models[0], type=HuggingFaceBaseModel, abbr=judge_models[0]['abbr'] + '-base')]

eval = dict(partitioner=dict(type=SubjectiveNaivePartitioner, models=models, judge_models=judge_models))
summarizer = dict(type=SubjectiveSummarizer)
