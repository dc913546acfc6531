# AlpacaEval 2 (805 instructions): each model against GPT-4 Turbo's outputs (read from the data),
# the judge picking the better one with AlpacaEval's own prompt, as OpenCompass's alpacav2 config.
from evalkit.datasets.subjective import alpaca_eval_dataset_cfgs

alpacav2_datasets = alpaca_eval_dataset_cfgs(reference='gpt4_1106_preview', infer_order='random')
