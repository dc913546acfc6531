"""Evaluators: post-processed predictions and gold answers in, metrics with standard errors out."""
from .accuracy import AccEvaluator
from .base import BaseEvaluator, CorpusEvaluator
from .bleu import BleuEvaluator
from .contamination import ContaminationAccEvaluator
from .edit_distance import EditDistanceEvaluator
from .exact_match import ExactMatchEvaluator
from .needle import NeedleEvaluator
from .numeric import NumericMatchEvaluator
from .pass_at_k import PassAtKEvaluator
from .rouge import RougeEvaluator
from .token_f1 import TokenF1Evaluator

__all__ = ['AccEvaluator', 'BaseEvaluator', 'BleuEvaluator', 'ContaminationAccEvaluator', 'CorpusEvaluator',
           'EditDistanceEvaluator', 'ExactMatchEvaluator', 'NeedleEvaluator', 'NumericMatchEvaluator',
           'PassAtKEvaluator', 'RougeEvaluator', 'TokenF1Evaluator']
