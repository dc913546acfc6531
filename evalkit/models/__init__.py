"""Model backends. Configs name them as ``type=HuggingFacewithChatTemplate`` and so on."""
from .base import BaseModel
from .catalog import model_configs
from .huggingface import HuggingFaceBaseModel, HuggingFacewithChatTemplate
from .openai_api import OpenAIChatModel

# OpenCompass's older name for a base model reads the same here.
HuggingFace = HuggingFaceBaseModel
HuggingFaceCausalLM = HuggingFaceBaseModel
# OpenCompass's names for an OpenAI-compatible endpoint, so that its API configs resolve.
OpenAI = OpenAIChatModel
OpenAISDK = OpenAIChatModel

__all__ = ['BaseModel', 'HuggingFaceBaseModel', 'HuggingFacewithChatTemplate', 'HuggingFace',
           'HuggingFaceCausalLM', 'OpenAIChatModel', 'OpenAI', 'OpenAISDK', 'model_configs']
