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
    def fit_examples(self, build, n_examples, too_long):
        """The prompt from ``build(k)`` with the largest k <= n_examples that ``too_long`` accepts.

        Examples are dropped from the end, one at a time, as OpenCompass does; the caller logs how
        many prompts were shortened.
        """
        k = n_examples
        prompt = build(k)
        while k > 0 and too_long(prompt):
            k -= 1
            prompt = build(k)
        return prompt, k

    @staticmethod
    def examples(ice_template, train, ice_ids, k, output_column):
        rows = [train[j] for j in ice_ids[:k]]
        return join_examples([ice_template.render_example(r, r[output_column]) for r in rows])

    # ----------------------------------------------------------- batch plan
    def batch_plan(self, requests, lengths, batch_size):
        """Indices grouped into batches: prompts with the same number of in-context examples
        together (they share their head, which the model computes once), longest first."""
        order = sorted(range(len(lengths)),
                       key=lambda i: (-requests[i].get('n_examples', 0), -lengths[i], i))
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]

    def run_plan(self, requests, lengths, batch_size, done, on_batch, run_batch, desc):
        """Run every batch not already finished; ``done`` maps index to a finished record."""
        records = dict(done or {})
        plan = self.batch_plan(requests, lengths, max(1, batch_size))
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
