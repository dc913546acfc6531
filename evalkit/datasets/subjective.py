"""Subjective datasets: open questions that a judge model rates or compares.

Every row has ``question``, ``capability`` (the category the summary groups by), ``others`` (a
dict: reference answer, ids) and ``judge`` (what OpenCompass configs name as the output column);
multi-turn rows also have ``dialogue``, a list of ``{'role', 'content'}`` turns whose assistant
contents the model fills one turn at a time (``ChatInferencer``).

- ``SubjectiveCmpDataset``: the generic JSON file, a list of ``{question, capability, others}``
  or of ``{dialogue, capability, others}`` (``<path>/<name>.json``, or ``path`` naming the file).
- ``AlignmentBenchDataset``: AlignBench, from its repository's JSONL and config folder (or
  OpenCompass's converted ``<name>.json``); adds the judge prompt ``critiquellm_prefix``.
- ``MTBenchDataset``: MT-Bench in FastChat's layout, two turns, with FastChat's judge prompts
  (``system_prompt``, ``prompt_template``) and the GPT-4 reference answers for math, reasoning and
  coding; ``name='mtbench_0.7'`` keeps the categories FastChat samples at that temperature.
- ``AlpacaEvalDataset``: AlpacaEval's 805 instructions, read from a reference model's outputs,
  with the judge prompt of an AlpacaEval evaluator template.
"""
import json
import re
from pathlib import Path

from datasets import Dataset

from ..openicl.judge import alignbench_judge_prefix, alpaca_eval_judge_prompt, fastchat_judge_prompt
from ..utils.errors import EvalkitError
from ..utils.fileio import read_jsonl
from ..utils.paths import resolve_data_path
from .base import BaseDataset

ROLES = ('system', 'user', 'assistant')


# ------------------------------------------------------------------ reading files

def _read_json_file(file):
    try:
        with open(file, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise EvalkitError(f'{file}: line {exc.lineno}: not valid JSON ({exc.msg})') from None


def _read_jsonl_file(file):
    return [row for _, row in read_jsonl(file)]


def _normalize_dialogue(dialogue, where):
    """A dialogue's turns, checked, with an empty assistant turn after every user turn that has
    none, so that each user turn gets an answer."""
    if not isinstance(dialogue, list) or not dialogue:
        raise EvalkitError(f'{where}: "dialogue" must be a non-empty list of {{"role", "content"}} turns')
    turns = []
    for k, turn in enumerate(dialogue):
        if not isinstance(turn, dict) or turn.get('role') not in ROLES:
            raise EvalkitError(f'{where}: dialogue turn {k} needs "role" (one of {", ".join(ROLES)}) '
                               'and "content"')
        if turns and turns[-1]['role'] == 'user' and turn['role'] != 'assistant':
            turns.append({'role': 'assistant', 'content': ''})
        turns.append({'role': turn['role'], 'content': str(turn.get('content') or '')})
    if turns[-1]['role'] == 'user':
        turns.append({'role': 'assistant', 'content': ''})
    if not any(t['role'] == 'user' for t in turns):
        raise EvalkitError(f'{where}: the dialogue has no user turn')
    return turns


def _subjective_row(question, capability, others, where, dialogue=None, **columns):
    """One row in the common shape (see the module's docstring)."""
    others = dict(others or {})
    row = {'question': question, 'capability': str(capability), 'others': others}
    if dialogue is not None:
        row['dialogue'] = _normalize_dialogue(dialogue, where)
        row['question'] = question or '\n'.join(t['content'] for t in row['dialogue'] if t['role'] == 'user')
    reference = others.get('reference')
    row['ref'] = reference if isinstance(reference, str) else ''
    row.update(columns)
    row['judge'] = {'capability': row['capability'], 'question': row['question'], 'others': others}
    return row


def _seed_rows(items, file):
    """Rows of the generic JSON format: a list of ``{question|dialogue, capability, others}``."""
    if not isinstance(items, list):
        raise EvalkitError(f'{file}: expected a JSON list of {{"question", "capability", "others"}} items')
    rows = []
    for i, item in enumerate(items):
        where = f'{file}: item {i}'
        if not isinstance(item, dict):
            raise EvalkitError(f'{where}: expected an object with "question", "capability", "others"')
        question, dialogue = item.get('question'), item.get('dialogue')
        if dialogue is None and not (isinstance(question, str) and question.strip()):
            raise EvalkitError(f'{where}: needs a "question" text (or a "dialogue" list)')
        others = item.get('others') or {}
        if not isinstance(others, dict):
            raise EvalkitError(f'{where}: "others" must be an object (e.g. {{"reference": "..."}})')
        rows.append(_subjective_row(question, item.get('capability') or 'general', others, where, dialogue))
    return rows


def _to_dataset(rows, file):
    # Every row gets every column: a Dataset takes its columns from the first row alone.
    columns = list(dict.fromkeys(k for row in rows for k in row))
    rows = [{k: row.get(k) for k in columns} for row in rows]
    try:
        return Dataset.from_list(rows)
    except (ValueError, TypeError) as exc:  # pyarrow's ArrowInvalid and ArrowTypeError among them
        raise EvalkitError(f'{file}: a field holds values of different types in different items '
                           f'({str(exc).splitlines()[0]}); give each field one type') from None


def _json_file(path, name, data_root):
    """``<path>/<name>.json``, or ``path`` itself when it names a file."""
    base = resolve_data_path(path, data_root)
    return base if base.suffix in ('.json', '.jsonl') or not name else base / f'{name}.json'


# ------------------------------------------------------------------ the generic format

FASTCHAT_PROMPTS_PATH = './data/mt_bench/judge_prompts.jsonl'


class SubjectiveCmpDataset(BaseDataset):
    """Questions in the generic JSON format (see the module's docstring).

    ``judge_type='single'`` or ``'pair'`` adds FastChat's judge prompt to every row as
    ``system_prompt`` and ``prompt_template`` (its reference-answer form where ``others`` holds a
    ``reference``, its two-turn form for two-turn dialogues), read from ``judge_prompts``
    (MT-Bench's ``judge_prompts.jsonl`` under the data root by default).
    """

    @classmethod
    def required_files(cls, path, name=None, data_root=None, judge_type=None, judge_prompts=FASTCHAT_PROMPTS_PATH,
                       **kwargs):
        files = [_json_file(path, name, data_root)]
        return files + ([resolve_data_path(judge_prompts, data_root)] if judge_type else [])

    @classmethod
    def fix_hint(cls):
        return ('Give path= the folder of <name>.json (or the .json file itself), a list of '
                '{"question", "capability", "others"} items.')

    @classmethod
    def load(cls, path, name=None, data_root=None, judge_type=None, judge_prompts=FASTCHAT_PROMPTS_PATH, **unused):
        cls.check(path, name=name, data_root=data_root, judge_type=judge_type, judge_prompts=judge_prompts)
        file = _json_file(path, name, data_root)
        items = _read_jsonl_file(file) if file.suffix == '.jsonl' else _read_json_file(file)
        rows = _seed_rows(items, file)
        if judge_type:
            prompts = _fastchat_prompts(resolve_data_path(judge_prompts, data_root))
            rows = [dict(row, **_fastchat_columns(prompts, row, judge_type, f'{file}: item {i}'))
                    for i, row in enumerate(rows)]
        return _to_dataset(rows, file)


def _fastchat_prompts(file):
    return {p['name']: p for p in _read_jsonl_file(file) if isinstance(p, dict) and 'name' in p}


def _fastchat_columns(prompts, row, judge_type, where):
    """``system_prompt`` and ``prompt_template`` of FastChat's judge prompt for a row."""
    if 'dialogue' in row:
        questions = [t['content'] for t in row['dialogue'] if t['role'] == 'user']
    else:
        questions = [row['question']]
    reference = row['others'].get('reference')
    references = [reference] if isinstance(reference, str) else list(reference or [])
    try:
        system, prompt = fastchat_judge_prompt(prompts, questions, references, judge_type)
    except EvalkitError as exc:
        raise EvalkitError(f'{where}: {exc}') from None
    return {'system_prompt': system, 'prompt_template': prompt}


# ------------------------------------------------------------------ AlignBench

ALIGNBENCH_PATH = './data/alignbench'
# Upstream file of each release, under the repository's data/ folder.
ALIGNBENCH_FILES = {'alignment_bench_v1_1': 'data_v1.1_release.jsonl', 'alignment_bench': 'data_release.jsonl'}
# OpenCompass's groups of AlignBench's eight categories (the overall score averages the two).
ALIGNBENCH_GROUPS = {'中文推理': ['数学计算', '逻辑推理'],
                     '中文语言': ['基本任务', '中文理解', '综合问答', '文本写作', '角色扮演', '专业能力']}


class AlignBenchConfig:
    """AlignBench's config folder: the dimensions judged for each subcategory and their definitions.

    ``multi-dimension.json`` names the other files relative to the repository root
    (``config/dimension_set.json``); they are looked for there and in the config folder itself.
    """

    def __init__(self, folder, name='multi-dimension'):
        self.folder = Path(folder)
        paths = _read_json_file(self.folder / f'{name}.json').get('Paths') or {}
        self.dimension_sets = _read_json_file(self._find(paths, 'dimension_set_filepath'))
        self.definitions = _read_json_file(self._find(paths, 'dimension_def_filepath'))
        self.question_types = _read_json_file(self._find(paths, 'subcategory_mapping'))

    def _find(self, paths, key):
        relative = paths.get(key)
        if not relative:
            raise EvalkitError(f'{self.folder}: the config lacks Paths.{key}')
        for base in (self.folder.parent, self.folder):
            if (base / relative).is_file():
                return base / relative
        raise EvalkitError(f'{self.folder}: {relative} (Paths.{key}) not found next to the config')

    def dimensions(self, subcategory):
        kind = self.question_types.get(subcategory)
        if kind not in self.dimension_sets:
            raise EvalkitError(f'{self.folder}: subcategory {subcategory!r} has no dimension set')
        return self.dimension_sets[kind]


class AlignmentBenchDataset(BaseDataset):
    """AlignBench: ``<path>/data/<release>.jsonl`` (the repository's layout) or OpenCompass's converted
    ``<path>/<name>.json``; the judge configuration from ``<path>/config`` unless told otherwise."""

    @staticmethod
    def _data_file(path, name, data_root):
        base = resolve_data_path(path, data_root)
        converted = base / f'{name}.json'
        if converted.is_file() or name not in ALIGNBENCH_FILES:
            return converted
        return base / 'data' / ALIGNBENCH_FILES[name]

    @staticmethod
    def _config_folder(path, config_path, data_root):
        return resolve_data_path(config_path, data_root) if config_path else \
            resolve_data_path(path, data_root) / 'config'

    @classmethod
    def required_files(cls, path=ALIGNBENCH_PATH, name='alignment_bench_v1_1', data_root=None,
                       alignment_bench_config_path=None, alignment_bench_config_name='multi-dimension',
                       **kwargs):
        folder = cls._config_folder(path, alignment_bench_config_path, data_root)
        return [cls._data_file(path, name, data_root), folder / f'{alignment_bench_config_name}.json']

    @classmethod
    def fix_hint(cls):
        return ('AlignBench is read from its repository layout (data/data_v1.1_release.jsonl and '
                'config/); point --data-root / EVALKIT_DATA_ROOT at the folder holding alignbench/.')

    @classmethod
    def load(cls, path=ALIGNBENCH_PATH, name='alignment_bench_v1_1', data_root=None,
             alignment_bench_config_path=None, alignment_bench_config_name='multi-dimension', **unused):
        cls.check(path, name=name, data_root=data_root, alignment_bench_config_path=alignment_bench_config_path,
                  alignment_bench_config_name=alignment_bench_config_name)
        file = cls._data_file(path, name, data_root)
        config = AlignBenchConfig(cls._config_folder(path, alignment_bench_config_path, data_root),
                                  alignment_bench_config_name)
        items = _read_json_file(file) if file.suffix == '.json' else read_alignbench_jsonl(file)
        rows = []
        for row in _seed_rows(items, file):
            others = row['others']
            dimensions = config.dimensions(others.get('subcategory'))
            prefix = alignbench_judge_prefix(row['capability'], dimensions, config.definitions,
                                             row['question'], others.get('reference'))
            rows.append(dict(row, critiquellm_prefix=prefix))
        return _to_dataset(rows, file)


def read_alignbench_jsonl(file):
    """AlignBench's release JSONL as items of the generic format, as OpenCompass converts it."""
    return [_alignbench_item(r, f'{file}: line {n}') for n, r in read_jsonl(file)]


def _alignbench_item(record, where):
    """An upstream AlignBench record in the generic format, as OpenCompass converts it."""
    missing = [k for k in ('question', 'category', 'subcategory', 'reference') if k not in record]
    if missing:
        raise EvalkitError(f'{where}: lacks {", ".join(missing)}')
    return {'question': record['question'], 'capability': record['category'],
            'others': {'subcategory': record['subcategory'], 'reference': record['reference'],
                       'question_id': record.get('question_id')}}


# ------------------------------------------------------------------ MT-Bench

MTBENCH_PATH = './data/mt_bench'
# FastChat's sampling temperature for each category's answers.
MTBENCH_TEMPERATURES = {'writing': 0.7, 'roleplay': 0.7, 'extraction': 0.0, 'math': 0.0, 'coding': 0.0,
                        'reasoning': 0.0, 'stem': 0.1, 'humanities': 0.1, 'arena-hard-200': 0.0}
# Categories FastChat judges against the reference answers.
MTBENCH_REFERENCE_CATEGORIES = ('math', 'reasoning', 'coding', 'arena-hard-200')


def mtbench_temperature(name):
    """The temperature a dataset name like ``mtbench_0.7`` selects, or None for all categories."""
    match = re.fullmatch(r'mtbench(?:_(\d+(?:\.\d+)?))?', str(name or 'mtbench'))
    if not match:
        temperatures = ', '.join(sorted({str(t) for t in MTBENCH_TEMPERATURES.values()}))
        raise EvalkitError(f"MT-Bench name {name!r}: use 'mtbench' (every category) or 'mtbench_<temperature>', "
                           f'the temperatures being {temperatures}')
    return float(match[1]) if match[1] else None


class MTBenchDataset(BaseDataset):
    """MT-Bench in FastChat's layout: ``<path>/mt_bench/question.jsonl``, the reference answers in
    ``<path>/mt_bench/reference_answer/gpt-4.jsonl`` and the judge prompts in
    ``<path>/judge_prompts.jsonl``. ``judge_type``: 'single' (a rating) or 'pair' (a verdict);
    ``multi_turn``: the judge sees both turns and rates the second answer (OpenCompass's MT-Bench),
    else the first turn only."""

    @staticmethod
    def _files(path, data_root):
        base = resolve_data_path(path, data_root)
        return {'questions': base / 'mt_bench' / 'question.jsonl',
                'references': base / 'mt_bench' / 'reference_answer' / 'gpt-4.jsonl',
                'prompts': base / 'judge_prompts.jsonl'}

    @classmethod
    def required_files(cls, path=MTBENCH_PATH, name=None, data_root=None, **kwargs):
        return list(cls._files(path, data_root).values())

    @classmethod
    def fix_hint(cls):
        return ("MT-Bench is read in FastChat's llm_judge/data layout; point --data-root / "
                'EVALKIT_DATA_ROOT at the folder holding mt_bench/.')

    @classmethod
    def load(cls, path=MTBENCH_PATH, name='mtbench', data_root=None, judge_type='single', multi_turn=True,
             **unused):
        temperature = mtbench_temperature(name)
        cls.check(path, name=name, data_root=data_root)
        files = cls._files(path, data_root)
        prompts = _fastchat_prompts(files['prompts'])
        references = {r['question_id']: r['choices'][0]['turns'] for r in _read_jsonl_file(files['references'])}
        rows = []
        for n, q in read_jsonl(files['questions']):
            where = f'{files["questions"]}: line {n}'
            if not isinstance(q.get('turns'), list) or 'category' not in q:
                raise EvalkitError(f'{where}: needs "turns" (a list) and "category"')
            if temperature is not None and MTBENCH_TEMPERATURES.get(q['category'], 0.7) != temperature:
                continue
            reference = references.get(q['question_id']) if q['category'] in MTBENCH_REFERENCE_CATEGORIES else None
            dialogue = [t for turn in q['turns'] for t in ({'role': 'user', 'content': turn},
                                                             {'role': 'assistant', 'content': ''})]
            others = {'question_id': q['question_id'], 'reference': reference, 'round': len(q['turns'])}
            row = _subjective_row(None, q['category'], others, where, dialogue)
            questions = q['turns'] if multi_turn else q['turns'][:1]
            try:
                system, prompt = fastchat_judge_prompt(prompts, questions, reference, judge_type, multi_turn)
            except EvalkitError as exc:
                raise EvalkitError(f'{where}: {exc}') from None
            rows.append(dict(row, system_prompt=system, prompt_template=prompt))
        return _to_dataset(rows, files['questions'])


# ------------------------------------------------------------------ AlpacaEval

ALPACA_EVAL_PATH = './data/alpaca_eval'


class AlpacaEvalDataset(BaseDataset):
    """AlpacaEval's instructions, read from a reference model's ``results/<reference>/model_outputs.json``
    (every model's outputs file holds the same 805 instructions), or from OpenCompass's converted
    ``<path>/<name>.json``; the judge prompt from ``evaluators_configs/<evaluator>/configs.yaml``.
    ``capability`` is the instruction's source set (helpful_base, koala, oasst, selfinstruct, vicuna)."""

    @staticmethod
    def _files(path, name, reference, evaluator, data_root):
        base = resolve_data_path(path, data_root)
        converted = base / f'{name}.json'
        return {'data': converted if converted.is_file() else base / 'results' / reference / 'model_outputs.json',
                'evaluator': base / 'evaluators_configs' / evaluator / 'configs.yaml'}

    @classmethod
    def required_files(cls, path=ALPACA_EVAL_PATH, name='alpaca_eval', data_root=None,
                       reference='gpt4_1106_preview', evaluator='alpaca_eval_clf_gpt4_turbo', **kwargs):
        return list(cls._files(path, name, reference, evaluator, data_root).values())

    @classmethod
    def fix_hint(cls):
        return ("AlpacaEval is read in its repository's layout (results/<model>/model_outputs.json, "
                'evaluators_configs/); point --data-root / EVALKIT_DATA_ROOT at the folder holding alpaca_eval/.')

    @classmethod
    def load(cls, path=ALPACA_EVAL_PATH, name='alpaca_eval', data_root=None, reference='gpt4_1106_preview',
             evaluator='alpaca_eval_clf_gpt4_turbo', **unused):
        cls.check(path, name=name, data_root=data_root, reference=reference, evaluator=evaluator)
        files = cls._files(path, name, reference, evaluator, data_root)
        template = _evaluator_template(files['evaluator'])
        items = _read_json_file(files['data'])
        if files['data'].name == 'model_outputs.json':
            items = [_alpaca_item(r, f'{files["data"]}: item {i}') for i, r in enumerate(items)]
        rows = []
        for row in _seed_rows(items, files['data']):
            system, prompt = alpaca_eval_judge_prompt(template, row['question'])
            rows.append(dict(row, system_prompt=system, prompt_template=prompt))
        return _to_dataset(rows, files['data'])


def _alpaca_item(record, where):
    if not isinstance(record, dict) or not isinstance(record.get('instruction'), str):
        raise EvalkitError(f'{where}: lacks "instruction"')
    return {'question': record['instruction'], 'capability': record.get('dataset') or 'general', 'others': {}}


def _evaluator_template(config_file):
    """The prompt template text an AlpacaEval evaluator's configs.yaml names (``prompt_template:``,
    relative to the evaluators_configs folder)."""
    text = Path(config_file).read_text(encoding='utf-8')
    match = re.search(r'^\s*prompt_template:\s*["\']?([^"\'\n]+)["\']?\s*$', text, re.M)
    if not match:
        raise EvalkitError(f'{config_file}: no prompt_template entry')
    template = Path(config_file).parent.parent / match[1].strip()
    if not template.is_file():
        raise EvalkitError(f'{config_file}: its prompt_template {match[1].strip()} is not at {template}')
    return template.read_text(encoding='utf-8')


# ------------------------------------------------------------------ dataset configs

def _judge_cfg(template, **evaluator):
    """``eval_cfg`` with an LMEvaluator whose prompt is ``template`` (a PromptTemplate template)."""
    from ..openicl import LMEvaluator, PromptTemplate
    return dict(evaluator=dict(type=LMEvaluator, prompt_template=dict(type=PromptTemplate, template=template),
                               **evaluator), pred_role='BOT')


def _question_infer_cfg(max_out_len):
    from ..openicl import GenInferencer, PromptTemplate, ZeroRetriever
    question = dict(round=[dict(role='HUMAN', prompt='{question}')])
    return dict(prompt_template=dict(type=PromptTemplate, template=question), retriever=dict(type=ZeroRetriever),
                inferencer=dict(type=GenInferencer, max_out_len=max_out_len))


# The judge prompt of datasets that carry their own: a system prompt and a user prompt per row.
SYSTEM_AND_PROMPT = dict(begin=[dict(role='SYSTEM', fallback_role='HUMAN', prompt='{system_prompt}')],
                         round=[dict(role='HUMAN', prompt='{prompt_template}')])


def subjective_dataset_cfgs(path, abbr=None, name=None, mode='singlescore', judge_type=None, max_out_len=None,
                            **settings):
    """A dataset in the generic JSON format, judged with FastChat's prompts: ``judge_type`` 'single'
    (a rating; the default in score mode) or 'pair' (a verdict; the default in compare mode).
    ``settings``: the judge settings (base_models, infer_order, given_pred, ...)."""
    from ..openicl import ChatInferencer
    judge_type = judge_type or ('single' if mode == 'singlescore' else 'pair')
    infer_cfg = _question_infer_cfg(max_out_len)
    # Dialogues are answered turn by turn; single questions too, as one-turn dialogues.
    infer_cfg['inferencer'] = dict(type=ChatInferencer, max_out_len=max_out_len)
    return [dict(abbr=abbr or name or Path(str(path)).stem, type=SubjectiveCmpDataset,
                 path=str(path), name=name, judge_type=judge_type,
                 reader_cfg=dict(input_columns=['question', 'capability', 'system_prompt', 'prompt_template'],
                                 output_column='judge'),
                 infer_cfg=infer_cfg, eval_cfg=_judge_cfg(SYSTEM_AND_PROMPT), mode=mode, **settings)]


def alignbench_dataset_cfgs(name='alignment_bench_v1_1', path=ALIGNBENCH_PATH, max_out_len=None):
    """AlignBench as OpenCompass's standard config runs it: the question as a user turn; the judge
    gets the CritiqueLLM prompt with the reference answer, then the answer; ratings per dimension
    and overall, summarized per category and in the two groups."""
    return [dict(abbr=name, type=AlignmentBenchDataset, path=path, name=name,
                 reader_cfg=dict(input_columns=['question', 'capability', 'critiquellm_prefix'],
                                 output_column='judge'),
                 infer_cfg=_question_infer_cfg(max_out_len),
                 eval_cfg=_judge_cfg(dict(round=[dict(
                     role='HUMAN', prompt='{critiquellm_prefix}[助手的答案开始]\n{prediction}\n[助手的答案结束]\n')])),
                 mode='singlescore', summarizer=dict(capability_groups=ALIGNBENCH_GROUPS, groups_mean='总分'))]


def mtbench_dataset_cfgs(temperatures=(0.0, 0.1, 0.7), max_out_len=1024, max_seq_len=4096, judge_type='single',
                         path=MTBENCH_PATH):
    """MT-Bench as OpenCompass's standard config runs it: one dataset per sampling temperature
    (``mtbench_0.0``, ``mtbench_0.1``, ``mtbench_0.7``), both turns answered in turn, the judge
    rating the second answer with both turns in view (FastChat's multi-turn prompts)."""
    from ..openicl import ChatInferencer, PromptTemplate, ZeroRetriever
    cfgs = []
    for temperature in temperatures:
        name = f'mtbench_{temperature}'
        cfgs.append(dict(
            abbr=name, type=MTBenchDataset, path=path, name=name, judge_type=judge_type,
            reader_cfg=dict(input_columns=['dialogue', 'capability', 'system_prompt', 'prompt_template'],
                            output_column='judge'),
            infer_cfg=dict(prompt_template=dict(type=PromptTemplate, template='{dialogue}'),
                           retriever=dict(type=ZeroRetriever),
                           inferencer=dict(type=ChatInferencer, max_seq_len=max_seq_len, max_out_len=max_out_len,
                                           temperature=temperature, do_sample=temperature > 0, infer_mode='every')),
            eval_cfg=_judge_cfg(SYSTEM_AND_PROMPT),
            mode='singlescore' if judge_type == 'single' else 'm2n'))
    return cfgs


def alpaca_eval_dataset_cfgs(reference='gpt4_1106_preview', infer_order='random', max_out_len=None,
                             path=ALPACA_EVAL_PATH, evaluator='alpaca_eval_clf_gpt4_turbo'):
    """AlpacaEval: every model's answers against the reference model's outputs (read from the data,
    not generated), the judge naming the better one with AlpacaEval's own prompt; the win rate
    against the reference, per instruction set and overall."""
    outputs = f'{path}/results/{reference}/model_outputs.json'
    return [dict(abbr='alpaca_eval', type=AlpacaEvalDataset, path=path, name='alpaca_eval', reference=reference,
                 evaluator=evaluator, reader_cfg=dict(input_columns=['question'], output_column='judge'),
                 infer_cfg=_question_infer_cfg(max_out_len),
                 eval_cfg=_judge_cfg(SYSTEM_AND_PROMPT, judge_parser='alpaca_eval'),
                 mode='m2n', infer_order=infer_order, base_models=[dict(abbr=reference)],
                 given_pred=[dict(abbr=reference, path=outputs)])]
