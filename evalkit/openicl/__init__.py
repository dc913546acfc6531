"""In-context learning pieces that configs name: templates, retrievers, inferencers, evaluators."""
from .evaluators import AccEvaluator, BaseEvaluator
from .inferencers import GenInferencer, PPLInferencer
from .postprocessors import POSTPROCESSORS, first_capital_postprocess, first_option_postprocess
from .prompt_template import PromptTemplate
from .retrievers import FixKRetriever, ZeroRetriever

__all__ = ['AccEvaluator', 'BaseEvaluator', 'GenInferencer', 'PPLInferencer', 'POSTPROCESSORS',
           'first_capital_postprocess', 'first_option_postprocess', 'PromptTemplate',
           'FixKRetriever', 'ZeroRetriever']
