# SmolLM2-135M-Instruct for subjective evaluation, as the model judged and as the judge: a long
# context for the judge prompts (references, two-turn conversations) and room for an explanation
# before the rating. A weak judge, but a real one; use a strong model (or an API model) for scores
# that mean something.
from mmengine.config import read_base

with read_base():
    from .smollm2_135m_instruct import models as _chat_models

judge_models = [dict(m, max_seq_len=4096, max_out_len=256, batch_size=4) for m in _chat_models]
