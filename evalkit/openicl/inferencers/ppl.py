"""Perplexity inference for multiple choice: every option's full text is scored, the option with
the lowest mean token loss is the prediction.

Options are always scored as plain text (a chat model included), the way OpenCompass scores them
with a base model.
"""
from ...models.base import turns_to_text
from .base import BaseInferencer


class PPLInferencer(BaseInferencer):
    mode = 'ppl'

    def __init__(self, labels=None, **kwargs):
        super().__init__(**kwargs)
        self.labels = labels

    def build(self, model, prompt_template, ice_template, ice_ids, train, test, output_column):
        self._labels = self.labels or prompt_template.labels
        if not self._labels:
            raise ValueError('PPLInferencer needs a template keyed by answer label, or labels=[...]')
        return super().build(model, prompt_template, ice_template, ice_ids, train, test, output_column)

    def render(self, model, template, row, ice, output_column):
        return {label: turns_to_text(template.render(row, label=label, ice=ice)) for label in self._labels}

    def sent_len(self, model, prompt):
        return max(model.token_len(t) for t in prompt.values())

    def infer(self, model, requests, done=None, on_batch=None, desc='ppl'):
        def run_batch(batch):
            groups = [list(r['origin_prompt'].values()) for r in batch]
            scores = model.choice_nll(groups)
            records = []
            for r, nll in zip(batch, scores):
                labels = list(r['origin_prompt'])
                best = min(range(len(labels)), key=lambda j: nll[j])
                records.append(dict(r, prediction=labels[best],
                                    ppl={label: round(v, 6) for label, v in zip(labels, nll)}))
            return records

        return self.run_plan(requests, self.batch_size or model.batch_size, done,
                             on_batch, run_batch, desc)
