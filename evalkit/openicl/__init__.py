"""In-context learning pieces that configs name: templates, retrievers, inferencers, evaluators."""
from .evaluators import (AccEvaluator, BaseEvaluator, BleuEvaluator, ContaminationAccEvaluator, CorpusEvaluator,
                         EditDistanceEvaluator, ExactMatchEvaluator, NeedleEvaluator, NumericMatchEvaluator,
                         PassAtKEvaluator, RougeEvaluator, TokenF1Evaluator)
from .inferencers import ChatInferencer, GenInferencer, PPLInferencer
from .judge import LMEvaluator
from .postprocessors import (POSTPROCESSORS, clean_text_postprocess, code_block_postprocess,
                             first_capital_postprocess, first_option_postprocess, last_number_postprocess,
                             strip_postprocess, strip_think_postprocess)
from .prompt_template import PromptTemplate
from .retrievers import FixKRetriever, ZeroRetriever

__all__ = ['AccEvaluator', 'BaseEvaluator', 'BleuEvaluator', 'ContaminationAccEvaluator', 'CorpusEvaluator',
           'EditDistanceEvaluator', 'ExactMatchEvaluator', 'NeedleEvaluator', 'NumericMatchEvaluator',
           'PassAtKEvaluator', 'RougeEvaluator', 'TokenF1Evaluator', 'ChatInferencer', 'GenInferencer',
           'LMEvaluator', 'PPLInferencer', 'POSTPROCESSORS',
           'clean_text_postprocess', 'code_block_postprocess', 'first_capital_postprocess',
           'first_option_postprocess', 'last_number_postprocess', 'strip_postprocess',
           'strip_think_postprocess', 'PromptTemplate', 'FixKRetriever', 'ZeroRetriever']
