from .gen import GenInferencer
from .ppl import PPLInferencer

__all__ = ['GenInferencer', 'PPLInferencer']
