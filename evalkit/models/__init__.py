"""Model backends. Configs name them as ``type=HuggingFacewithChatTemplate`` and so on."""
from .base import BaseModel
from .huggingface import HuggingFaceBaseModel, HuggingFacewithChatTemplate

# OpenCompass's older name for a base model reads the same here.
HuggingFace = HuggingFaceBaseModel
HuggingFaceCausalLM = HuggingFaceBaseModel

__all__ = ['BaseModel', 'HuggingFaceBaseModel', 'HuggingFacewithChatTemplate', 'HuggingFace',
           'HuggingFaceCausalLM']
