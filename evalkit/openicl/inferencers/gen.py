"""Generative inference: the model writes an answer, which post-processing reads later."""
from .base import BaseInferencer


class GenInferencer(BaseInferencer):
    mode = 'gen'

    def __init__(self, max_out_len=None, stopping_criteria=(), **kwargs):
        super().__init__(**kwargs)
        self.max_out_len = max_out_len
        self.stopping_criteria = list(stopping_criteria or ())

    def render(self, model, template, row, ice, output_column):
        return model.prepare(template.render(row, ice=ice, blank_column=output_column))

    def fit_len(self, model, prompt):
        return model.fit_len(prompt)

    def sent_len(self, model, prompt):
        return model.token_len(prompt)

    def infer(self, model, requests, done=None, on_batch=None, desc='gen'):
        max_out_len = self.max_out_len or model.max_out_len

        def run_batch(batch):
            outputs = model.generate([r['origin_prompt'] for r in batch], max_out_len,
                                     self.stopping_criteria)
            return [dict(r, prediction=out) for r, out in zip(batch, outputs)]

        return self.run_plan(requests, self.batch_size or model.batch_size, done,
                             on_batch, run_batch, desc)
