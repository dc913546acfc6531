# SmolLM2-135M-Instruct (Q4_1 GGUF) as a base model: prompts as plain text, no chat template.
from mmengine.config import read_base

from evalkit.models import HuggingFaceBaseModel

with read_base():
    from .smollm2_135m_instruct import models as _chat_models

models = [dict(m, type=HuggingFaceBaseModel, abbr=m['abbr'] + '-base') for m in _chat_models]
