"""Needle in a haystack: facts hidden in a long text at a grid of context lengths and depths.

A row is one prompt: a haystack (Paul Graham's essays for English, Skywork's
ChineseDomainModelingEval for Chinese, or a user's own corpus) cut so that the whole prompt takes
exactly ``length`` tokens of the model under test, with the needles inserted at ``depth`` percent
of it and a question after it. Three kinds of task:

- ``single``: one fact, one question about it;
- ``multi``: ``needle_count`` facts at once, one question for each (score = share answered);
- ``reasoning``: two facts that answer the question only together.

Context lengths are counted by the model's own tokenizer, so the loader takes the model's
``token_len`` and ``max_seq_len`` (the infer task passes them to loaders that name them); a cell
that does not fit the model's ``max_seq_len`` is skipped. The needles and questions are evalkit's
own, in ``evalkit/resources/needlebench/needles.jsonl``.

One dataset holds a whole grid for one kind and language; its rows carry ``length`` and ``depth``,
and ``NeedleEvaluator`` scores every cell.
"""
import bisect
import glob
import os
import re
from pathlib import Path

from datasets import Dataset

from ..utils.errors import EvalkitError
from ..utils.fileio import read_jsonl
from ..utils.logging import get_logger
from ..utils.paths import RESOURCES_DIR, resolve_data_path
from .base import BaseDataset

logger = get_logger()

NEEDLE_FILE = RESOURCES_DIR / 'needlebench' / 'needles.jsonl'
HAYSTACK_PATH = './data/needle_haystack'
# The built-in haystacks, as glob patterns under HAYSTACK_PATH, and the JSONL field of their text.
HAYSTACKS = {'en': ('PaulGrahamEssays/*.txt', None),
             'zh': ('ChineseDomainModelingEval/zh_*.jsonl', 'text')}
KINDS = ('single', 'multi', 'reasoning')
LANGUAGES = ('en', 'zh')

# Room kept in max_seq_len beside a cell's prompt: the chat template's markup around the prompt.
# The answer's own room (max_out_len) is added to it.
TEMPLATE_ROOM = 32

# The standard grids (context lengths in tokens, depths in percent). ``default`` is small enough
# to run with SmolLM2-135M on a laptop CPU in a few minutes.
DEPTHS_11 = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
GRIDS = {
    'default': dict(lengths=[512, 768, 1024], depths=[0, 50, 100]),
    '4k': dict(lengths=[1000, 2000, 3000, 4000], depths=DEPTHS_11),
    '8k': dict(lengths=[1000, 2000, 4000, 6000, 8000], depths=DEPTHS_11),
    '32k': dict(lengths=[2000, 4000, 8000, 16000, 24000, 32000], depths=DEPTHS_11),
    '128k': dict(lengths=[8000, 16000, 32000, 48000, 64000, 96000, 128000], depths=DEPTHS_11),
}

PROMPTS = {
    'en': dict(intro='Below is a long document. A few facts are hidden in it. Read it, then answer '
                     'the question after it from what the document says.',
               question='Question: {question}', questions='Questions:\n{questions}',
               one='Answer in one short sentence.', each='Answer each question in one short sentence.'),
    'zh': dict(intro='下面是一篇长文档，其中藏着几条事实。请阅读文档，然后根据文档的内容回答文档后面的问题。',
               question='问题：{question}', questions='问题：\n{questions}',
               one='请用一句话简短回答。', each='请用一句话简短回答每个问题。'),
}
# Where a needle may go: just after the end of a sentence (or a line).
_SENTENCE_END = {'en': re.compile(r'(?<=[.!?])\s+|\n+'), 'zh': re.compile(r'(?<=[。！？；])|\n+')}
# How far back (in characters) a needle may move to reach the end of a sentence.
_SNAP_WINDOW = 400


class NeedleBenchDataset(BaseDataset):

    @classmethod
    def haystack_files(cls, path=HAYSTACK_PATH, language='en', haystack=None, data_root=None):
        """The corpus files: ``haystack`` (paths or glob patterns, absolute or under the data root)
        or the built-in haystack of the language. A pattern that matches nothing is kept as it is,
        so the check names it."""
        if haystack:
            patterns = [haystack] if isinstance(haystack, str) else list(haystack)
            patterns = [str(resolve_data_path(p, data_root)) for p in patterns]
        else:
            patterns = [str(resolve_data_path(path, data_root) / HAYSTACKS[_language(language)][0])]
        files = []
        for pattern in patterns:
            matched = sorted(glob.glob(pattern)) if any(c in pattern for c in '*?[') else [pattern]
            if os.path.isdir(pattern):
                matched = sorted(str(p) for p in Path(pattern).iterdir()
                                 if p.suffix in ('.txt', '.jsonl') and p.is_file())
            files += matched or [pattern]
        return files

    @classmethod
    def required_files(cls, path=HAYSTACK_PATH, name=None, data_root=None, language='en',
                       haystack=None, **kwargs):
        return [NEEDLE_FILE] + cls.haystack_files(path, language, haystack, data_root)

    @classmethod
    def fix_hint(cls):
        return ('The built-in haystacks live in <data-root>/needle_haystack (set --data-root or '
                'EVALKIT_DATA_ROOT); a haystack= of your own takes .txt or .jsonl files.')

    @classmethod
    def load(cls, path=HAYSTACK_PATH, name=None, data_root=None, language='en', kind='single',
             lengths=(), depths=(), needle_count=1, samples_per_cell=1, haystack=None,
             text_field='text', max_out_len=64, token_len=None, max_seq_len=None, **kwargs):
        language, kind = _language(language), _kind(kind)
        if token_len is None:
            raise EvalkitError('needlebench measures context lengths in the tokens of the model under '
                               'test: load it through the infer task, or give token_len=')
        cls.check(path, data_root=data_root, language=language, haystack=haystack)
        files = cls.haystack_files(path, language, haystack, data_root)
        field = text_field if haystack else HAYSTACKS[language][1] or text_field
        fits = [n for n in lengths if not max_seq_len or n + max_out_len + TEMPLATE_ROOM <= max_seq_len]
        if len(fits) < len(lengths):
            logger.info('needlebench %s-%s: context length(s) %s do not fit max_seq_len=%s with room '
                        'for the answer: skipped', kind, language,
                        ', '.join(str(n) for n in lengths if n not in fits), max_seq_len)
        needle_sets = needle_sets_for(language, kind, needle_count, samples_per_cell)
        builder = PromptBuilder(read_haystack(files, field, max(fits) * 8), language, token_len)
        rows, too_short = [], set()
        for length in fits:
            for depth in depths:
                for needles in needle_sets:
                    fitted = builder.fit(needles, depth, length)
                    if fitted is None:
                        too_short.add(length)
                        continue
                    prompt, tokens = fitted
                    rows.append(dict(prompt=prompt, length=length, depth=depth, tokens=tokens,
                                     answer=dict(length=length, depth=depth,
                                                 needles=[dict(answer=n['answer'], keywords=n['keywords'])
                                                          for n in needles['scored']])))
        if too_short:
            logger.info('needlebench %s-%s: context length(s) %s are shorter than the question and '
                        'needles alone: skipped', kind, language, ', '.join(map(str, sorted(too_short))))
        if not rows:
            raise EvalkitError(f'needlebench {kind}-{language}: every context length of {list(lengths)} is '
                               'too short or too long for this model; choose other lengths')
        return Dataset.from_list(rows)


def _language(language):
    if language not in LANGUAGES:
        raise EvalkitError(f'needlebench: language={language!r}: choose one of {", ".join(LANGUAGES)}')
    return language


def _kind(kind):
    if kind not in KINDS:
        raise EvalkitError(f'needlebench: kind={kind!r}: choose one of {", ".join(KINDS)}')
    return kind


# ------------------------------------------------------------------ needles
def read_needles(language, kind):
    """The needle entries of one language and kind ('retrieval' or 'reasoning'), in file order;
    each keyword becomes a list of accepted spellings."""
    entries = []
    for n, row in read_jsonl(NEEDLE_FILE):
        if row.get('language') == language and row.get('kind') == kind:
            row['keywords'] = [[k] if isinstance(k, str) else list(k) for k in row['keywords']]
            entries.append(row)
    if not entries:
        raise EvalkitError(f'{NEEDLE_FILE}: no {kind} needles for language {language!r}')
    return entries


def needle_sets_for(language, kind, needle_count, samples_per_cell):
    """One needle set per sample of a cell; every cell gets the same sets, so cells differ only in
    length and depth. A set has ``inserted`` (sentences, in order), ``questions`` and ``scored``
    (the entries whose keywords score the answer)."""
    if kind == 'reasoning':
        pool = read_needles(language, 'reasoning')
        chosen = [[pool[s % len(pool)]] for s in range(samples_per_cell)]
    else:
        pool = read_needles(language, 'retrieval')
        k = needle_count if kind == 'multi' else 1
        if not 1 <= k <= len(pool):
            raise EvalkitError(f'needlebench {kind}: needle_count={needle_count}: give 1 to {len(pool)}')
        chosen = [[pool[(s * k + i) % len(pool)] for i in range(k)] for s in range(samples_per_cell)]
    return [dict(inserted=[sentence for e in entries for sentence in e['needles']],
                 questions=[e['question'] for e in entries], scored=entries) for entries in chosen]


# ------------------------------------------------------------------ haystacks
def read_haystack(files, text_field, enough_chars):
    """The corpus text, files in order (documents of a JSONL file in order), read until there is
    ``enough_chars`` of it; repeated when the corpus is shorter than that."""
    parts, size = [], 0
    for file in files:
        texts = _file_texts(file, text_field)
        for text in texts:
            text = text.strip()
            if text:
                parts.append(text)
                size += len(text) + 2
        if size >= enough_chars:
            break
    if not parts:
        raise EvalkitError(f'needlebench: the haystack files ({files[0]}{" ..." if len(files) > 1 else ""}) '
                           'hold no text')
    text = '\n\n'.join(parts)
    if len(text) < enough_chars:
        text = '\n\n'.join([text] * (enough_chars // len(text) + 1))
    return text


def _file_texts(file, text_field):
    if str(file).endswith('.jsonl'):
        texts = []
        for n, row in read_jsonl(file):
            if not isinstance(row.get(text_field), str):
                raise EvalkitError(f'{file}: line {n}: field {text_field!r} is missing or not text '
                                   '(set text_field= to the field that holds the text)')
            texts.append(row[text_field])
        return texts
    with open(file, encoding='utf-8') as f:
        return [f.read()]


# ------------------------------------------------------------------ prompts
class PromptBuilder:
    """Prompts of one haystack, cut to an exact token length by the model's ``token_len``."""

    def __init__(self, haystack, language, token_len):
        self.haystack, self.language, self.token_len = haystack, language, token_len
        sample = haystack[:20000]
        self.chars_per_token = len(sample) / max(1, token_len(sample))
        # Cut points: between words for English, anywhere for Chinese.
        self.cuts = ([m.start() for m in re.finditer(r'\s', haystack)] if language == 'en' else None)
        self.last_cut = {}

    def prompt(self, needles, depth, cut):
        return render_prompt(self.language, insert_needles(self.haystack[:cut], needles['inserted'],
                                                           depth, self.language), needles['questions'])

    def _snap(self, cut):
        if self.cuts is None:
            return cut
        i = bisect.bisect_right(self.cuts, cut) - 1
        return self.cuts[i] if i >= 0 else 0

    def fit(self, needles, depth, length):
        """(prompt, tokens): the longest haystack prefix whose prompt takes at most ``length``
        tokens (as close to it as a word boundary allows); None when the needles and question
        alone take more."""
        def tokens(cut):
            return self.token_len(self.prompt(needles, depth, self._snap(cut)))

        overhead = tokens(0)
        if overhead > length:
            return None
        # Bracket the cut around an estimate (the cut of this length at another depth, once there
        # is one), then bisect: about a dozen token counts per cell.
        guess, spread = self.last_cut.get(length), 0.02
        if guess is None:
            guess, spread = int((length - overhead) * self.chars_per_token), 0.1
        lo, hi = max(0, int(guess * (1 - spread))), min(len(self.haystack), int(guess * (1 + spread)) + 16)
        while lo > 0 and tokens(lo) > length:
            lo = lo // 2
        while hi < len(self.haystack) and tokens(hi) <= length:
            hi = min(len(self.haystack), hi * 2)
        if tokens(hi) <= length:
            lo = hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if tokens(mid) <= length:
                lo = mid
            else:
                hi = mid
        self.last_cut[length] = lo
        prompt = self.prompt(needles, depth, self._snap(lo))
        return prompt, self.token_len(prompt)


def render_prompt(language, document, questions):
    text = PROMPTS[language]
    if len(questions) == 1:
        asked = text['question'].format(question=questions[0]) + '\n' + text['one']
    else:
        numbered = '\n'.join(f'{i}. {q}' for i, q in enumerate(questions, 1))
        asked = text['questions'].format(questions=numbered) + '\n' + text['each']
    return f'{text["intro"]}\n\n{document}\n\n{asked}'


def needle_depths(depth, count):
    """Depths (percent) of ``count`` needles for a cell at ``depth``: the first at ``depth``, the
    rest spread evenly over what follows it."""
    return [depth + i * (100 - depth) / count for i in range(count)]


def insert_needles(haystack, sentences, depth, language):
    """The haystack with each sentence inserted at the end of the sentence nearest before its
    depth (percent of the haystack's characters)."""
    places = [sentence_start(haystack, len(haystack) * d / 100, language)
              for d in needle_depths(depth, len(sentences))]
    space = ' ' if language == 'en' else ''
    out, last = [], 0
    for place, sentence in zip(places, sentences):
        out.append(haystack[last:place])
        before = space if place > 0 and not haystack[place - 1].isspace() else ''
        after = space if place < len(haystack) and not haystack[place].isspace() else ''
        out.append(before + sentence + after)
        last = place
    out.append(haystack[last:])
    return ''.join(out)


def sentence_start(text, position, language):
    """The start of the sentence that holds ``position`` (a sentence boundary at or before it),
    or the position itself when no sentence ends within ``_SNAP_WINDOW`` characters before it."""
    position = int(round(position))
    if position <= 0 or position >= len(text):
        return max(0, min(position, len(text)))
    window_start = max(0, position - _SNAP_WINDOW)
    ends = [m.end() for m in _SENTENCE_END[language].finditer(text, window_start, position + 1)
            if m.end() <= position]
    return ends[-1] if ends else position


# ------------------------------------------------------------------ configs
def needlebench_dataset_cfgs(grid='default', kinds=KINDS, languages=LANGUAGES, lengths=None, depths=None,
                             needle_count=3, samples_per_cell=1, haystack=None, text_field='text',
                             max_out_len=None, name=None):
    """The dataset configs of a grid: one per kind and language (abbr
    ``needlebench-<grid>-<kind>-<language>``, ``multi<k>`` for the multi-needle kind).

    ``grid`` names a standard grid (``GRIDS``); ``lengths`` and ``depths`` override its values.
    ``haystack``: paths or glob patterns of a corpus of your own (.txt files, or .jsonl with the
    text in ``text_field``) used instead of the built-in haystacks; ``name`` then names it in
    the abbr."""
    from ..openicl import GenInferencer, PromptTemplate
    from ..openicl.evaluators.needle import NeedleEvaluator
    if grid not in GRIDS and (lengths is None or depths is None):
        raise EvalkitError(f'needlebench: unknown grid {grid!r} (grids: {", ".join(GRIDS)}); '
                           'or give lengths= and depths=')
    base = GRIDS.get(grid, {})
    lengths = list(lengths if lengths is not None else base['lengths'])
    depths = list(depths if depths is not None else base['depths'])
    bad = [d for d in depths if not 0 <= d <= 100]
    if bad or not lengths or not depths:
        raise EvalkitError(f'needlebench: depths are percentages from 0 to 100 and the grid needs '
                           f'lengths and depths (got lengths={lengths}, depths={depths})')
    cfgs = []
    for kind in kinds:
        for language in languages:
            label = f'multi{needle_count}' if kind == 'multi' else _kind(kind)
            answer_len = max_out_len or (24 * needle_count if kind == 'multi' else 40)
            corpus = f'-{name}' if name else ''
            cfgs.append(dict(
                abbr=f'needlebench-{grid}{corpus}-{label}-{_language(language)}',
                type=NeedleBenchDataset, path=HAYSTACK_PATH, language=language, kind=kind,
                lengths=lengths, depths=depths, needle_count=needle_count if kind == 'multi' else 1,
                samples_per_cell=samples_per_cell, max_out_len=answer_len,
                **(dict(haystack=haystack, text_field=text_field) if haystack else {}),
                reader_cfg=dict(input_columns=['prompt'], output_column='answer'),
                infer_cfg=dict(
                    prompt_template=dict(type=PromptTemplate, template=dict(round=[
                        dict(role='HUMAN', prompt='{prompt}'), dict(role='BOT', prompt='')])),
                    retriever=dict(type='ZeroRetriever'),
                    inferencer=dict(type=GenInferencer, max_out_len=answer_len)),
                eval_cfg=dict(evaluator=dict(type=NeedleEvaluator)),
            ))
    return cfgs
