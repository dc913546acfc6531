# SmolLM2-135M-Instruct (Q4_1 GGUF) as a base model: prompts as plain text, no chat template.
from evalkit.models import HuggingFaceBaseModel
from evalkit.utils.paths import smollm2_gguf

models = [
    dict(
        type=HuggingFaceBaseModel,
        abbr='smollm2-135m-instruct-base',
        path=smollm2_gguf(),
        max_seq_len=2048,
        max_out_len=16,
        batch_size=8,
        run_cfg=dict(num_gpus=0),
    )
]
