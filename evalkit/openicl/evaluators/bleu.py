"""Corpus BLEU with sacrebleu (0..100)."""
from .base import CorpusEvaluator
from .text import as_text, gold_answers, has_han

MAX_ORDER = 4


class BleuEvaluator(CorpusEvaluator):
    """``bleu``: sacrebleu's corpus BLEU (0..100, default settings: exponential smoothing, 4-grams),
    as ``sacrebleu.corpus_bleu`` computes it. A reference may be a list of reference translations.

    ``tokenize`` is sacrebleu's tokenizer name; by default 'zh' when any reference or prediction
    holds Chinese characters, else '13a' (sacrebleu's default). ``bleu_stderr`` and ``bleu_ci95``
    come from bootstrap resampling of the sentences, only when ``bootstrap > 0``.
    """

    def __init__(self, tokenize=None, lowercase=False, bootstrap=0, seed=0):
        super().__init__(bootstrap=bootstrap, seed=seed)
        self.tokenize = tokenize
        self.lowercase = lowercase

    def sample_stats(self, predictions, references):
        from sacrebleu.metrics import BLEU
        predictions = [as_text(p) for p in predictions]
        references = [gold_answers(r) for r in references]
        chinese = any(map(has_han, predictions)) or any(has_han(g) for refs in references for g in refs)
        tokenize = self.tokenize or ('zh' if chinese else '13a')
        # effective_order only silences sacrebleu's advice for sentence scores: the statistics
        # taken here do not depend on it.
        bleu = BLEU(tokenize=tokenize, lowercase=self.lowercase, effective_order=True)
        stats = []
        for pred, refs in zip(predictions, references):
            s = bleu.sentence_score(pred, refs)
            stats.append([s.sys_len, s.ref_len, *s.counts, *s.totals])
        return stats

    def corpus_metrics(self, totals):
        from sacrebleu.metrics import BLEU
        sys_len, ref_len = int(totals[0]), int(totals[1])
        correct = [int(c) for c in totals[2:2 + MAX_ORDER]]
        total = [int(t) for t in totals[2 + MAX_ORDER:]]
        return {'bleu': BLEU.compute_bleu(correct, total, sys_len, ref_len, smooth_method='exp').score}
