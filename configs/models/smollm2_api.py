# SmolLM2-135M-Instruct behind an OpenAI-compatible server on this machine. Start one first, e.g.
#   pip install "llama-cpp-python[server]==0.3.16"
#   GGUF=$(python -c 'from evalkit.utils.paths import smollm2_gguf; print(smollm2_gguf())')
#   python -m llama_cpp.server --model "$GGUF" --model_alias smollm2-135m-instruct \
#       --host 127.0.0.1 --port 8000 --n_ctx 4096
# then: python run.py --models smollm2_api --datasets ceval_gen --subsets logic --debug
# A server that wants a key: export the key, and set key_env='NAME_OF_THAT_VARIABLE' below.
from evalkit.models import OpenAIChatModel

models = [
    dict(
        type=OpenAIChatModel,
        abbr='smollm2-135m-instruct-api',
        path='smollm2-135m-instruct',             # the model name the server knows
        openai_api_base='http://127.0.0.1:8000/v1',
        key='EMPTY',                              # a local server: no key sent
        max_seq_len=4096,
        max_out_len=16,
        batch_size=8,
        max_concurrency=4,                        # requests in flight at once
        query_per_second=None,                    # no pacing on loopback
        retry=2,
        timeout=120,
        temperature=0,
    )
]
