"""ROUGE-1, ROUGE-2 and ROUGE-L F-measures with rouge-score, in percent."""
import re

from .base import BaseEvaluator
from .text import HAN_RE, as_text, gold_answers, has_han

ROUGE_TYPES = ('rouge1', 'rouge2', 'rougeL')
_HAN_GAP_RE = re.compile(f'(?<={HAN_RE.pattern})\\s+(?={HAN_RE.pattern})')


class RougeEvaluator(BaseEvaluator):
    """``rouge1``, ``rouge2``, ``rougeL``: rouge-score's F-measures per sample (the best over a list
    of gold answers), averaged, in percent. ``use_stemmer`` applies the Porter stemmer to English.

    rouge-score's own tokenizer keeps only ASCII letters and digits, which would drop Chinese
    entirely; text holding Chinese characters is segmented into words with jieba instead.
    """

    def __init__(self, use_stemmer=False, bootstrap=0, seed=0):
        super().__init__(bootstrap=bootstrap, seed=seed)
        from rouge_score import rouge_scorer
        self.scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=MixedTokenizer(use_stemmer))

    def sample_scores(self, predictions, references):
        scores = {name: [] for name in ROUGE_TYPES}
        for pred, ref in zip(predictions, references):
            result = self.scorer.score_multi(gold_answers(ref), as_text(pred))
            for name in ROUGE_TYPES:
                scores[name].append(result[name].fmeasure)
        return scores


class MixedTokenizer:
    """rouge-score's tokenizer for English; jieba words (lower-cased, punctuation dropped) for text
    with Chinese characters."""

    def __init__(self, use_stemmer):
        from rouge_score import tokenizers
        self.default = tokenizers.DefaultTokenizer(use_stemmer)
        self.jieba = None

    def tokenize(self, text):
        if not has_han(text):
            return self.default.tokenize(text)
        if self.jieba is None:
            import logging

            import jieba
            jieba.setLogLevel(logging.WARNING)   # it logs its dictionary loading otherwise
            self.jieba = jieba
        # Spaces between Chinese characters are layout, not word boundaries: jieba decides those.
        text = _HAN_GAP_RE.sub('', text)
        return [word.lower() for word in self.jieba.lcut(text) if any(ch.isalnum() for ch in word)]
