"""Generative inference: the model writes an answer, which post-processing reads later."""
from .base import BaseInferencer


class GenInferencer(BaseInferencer):
    mode = 'gen'

    def __init__(self, max_out_len=None, stopping_criteria=(), **kwargs):
        super().__init__(**kwargs)
        self.max_out_len = max_out_len
        self.stopping_criteria = list(stopping_criteria or ())

    def build(self, model, prompt_template, ice_template, ice_ids, train, test, output_column):
        """One request per test row: the prepared prompt, its token count and the gold answer."""
        max_len = self.max_seq_len or model.max_seq_len
        requests = []
        for i, row in enumerate(test):
            def build(k, row=row, ids=ice_ids[i]):
                ice = self.examples(ice_template, train, ids, k, output_column) if ids else []
                return model.prepare(prompt_template.render(row, ice=ice, blank_column=output_column))
            prompt, k = self.fit_examples(build, len(ice_ids[i]),
                                          lambda p: max_len and model.fit_len(p) > max_len)
            requests.append({'origin_prompt': prompt, 'n_examples': k,
                             'gold': row.get(output_column) if output_column else None})
        return requests

    def infer(self, model, requests, done=None, on_batch=None, desc='gen'):
        max_out_len = self.max_out_len or model.max_out_len
        lengths = [model.token_len(r['origin_prompt']) for r in requests]

        def run_batch(batch):
            outputs = model.generate([r['origin_prompt'] for r in batch], max_out_len,
                                     self.stopping_criteria)
            return [dict(r, prediction=out) for r, out in zip(batch, outputs)]

        return self.run_plan(requests, lengths, self.batch_size or model.batch_size, done,
                             on_batch, run_batch, desc)
