"""What every inferencer shares: building prompts from a template and a retriever, fitting them to
the model's context, and running them in a fixed, length-sorted batch plan.

An inferencer knows nothing about files. The task hands it the rows already finished (on resume)
and a callback that it calls after every batch with everything finished so far. The batch plan
depends only on the prompts, so a resumed run puts every remaining row in the same batch, with
the same padding, as an uninterrupted run: the predictions come out identical.
"""
from tqdm import tqdm

from ...utils.logging import get_logger
from ..prompt_template import join_examples

logger = get_logger()


class BaseInferencer:
    mode = None

    def __init__(self, batch_size=None, max_seq_len=None, fix_id_list=None, **unused):
        self.batch_size = batch_size
        self.max_seq_len = max_seq_len
        self.fix_id_list = fix_id_list  # OpenCompass's older configs put it here

    # ----------------------------------------------------------- prompt building
    def render(self, model, template, row, ice, output_column):
        """The prompt for one row with the given in-context examples, in the model's form."""
        raise NotImplementedError

    def fit_len(self, model, prompt):
        """The length compared with max_seq_len when fitting examples."""
        return self.sent_len(model, prompt)

    def sent_len(self, model, prompt):
        """The number of tokens the model is given for this prompt."""
        raise NotImplementedError

    def build(self, model, prompt_template, ice_template, ice_ids, train, test, output_column):
        """One request per test row: the prompt sent, the examples it kept, its token count and
        the gold answer. A prompt over max_seq_len drops in-context examples from the end, one
        at a time, as OpenCompass does; the task logs how many prompts were shortened."""
        max_len = self.max_seq_len or model.max_seq_len
        requests = []
        for i, row in enumerate(test):
            k = len(ice_ids[i])
            while True:
                ice = self.examples(ice_template, train, ice_ids[i], k, output_column) if k else []
                prompt = self.render(model, prompt_template, row, ice, output_column)
                if k == 0 or not max_len or self.fit_len(model, prompt) <= max_len:
                    break
                k -= 1
            requests.append({'origin_prompt': prompt, 'n_examples': k,
                             'n_tokens': self.sent_len(model, prompt),
                             'gold': row.get(output_column) if output_column else None})
        return requests

    @staticmethod
    def examples(ice_template, train, ice_ids, k, output_column):
        rows = [train[j] for j in ice_ids[:k]]
        return join_examples([ice_template.render_example(r, r[output_column]) for r in rows])

    # ----------------------------------------------------------- batch plan
    def batch_plan(self, requests, batch_size):
        """Indices grouped into batches: prompts with the same number of in-context examples
        together (they share their head, which the model computes once), longest first."""
        order = sorted(range(len(requests)),
                       key=lambda i: (-requests[i]['n_examples'], -requests[i]['n_tokens'], i))
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]

    def run_plan(self, requests, batch_size, done, on_batch, run_batch, desc):
        """Run every batch not already finished; ``done`` maps index to a finished record."""
        records = dict(done or {})
        plan = self.batch_plan(requests, max(1, batch_size))
        todo = [b for b in plan if not all(i in records for i in b)]
        if done:
            logger.info('%s: %d of %d rows already done, resuming', desc, len(records), len(requests))
        with tqdm(total=len(requests), initial=len(requests) - sum(len(b) for b in todo),
                  desc=desc, unit='row', dynamic_ncols=True, leave=False,
                  disable=None) as bar:  # a terminal only, not a worker's log file
            for batch in todo:
                for i, record in zip(batch, run_batch([requests[i] for i in batch])):
                    records[i] = record
                bar.update(len(batch))
                if on_batch:
                    on_batch(records)
        return [records[i] for i in range(len(requests))]
