from .chat import ChatInferencer
from .gen import GenInferencer
from .ppl import PPLInferencer

__all__ = ['ChatInferencer', 'GenInferencer', 'PPLInferencer']
