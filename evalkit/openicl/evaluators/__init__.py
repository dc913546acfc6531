from .accuracy import AccEvaluator
from .base import BaseEvaluator

__all__ = ['AccEvaluator', 'BaseEvaluator']
