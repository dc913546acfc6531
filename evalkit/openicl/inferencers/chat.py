"""Multi-turn inference: the model answers a dialogue one assistant turn at a time.

A row's dialogue is its ``dialogue`` column (a list of ``{'role', 'content'}`` turns), or else the
prompt template's turns, with an assistant turn appended to answer the last user turn. Each
assistant turn is generated with the dialogue so far as its prompt, which holds the model's own
earlier answers (``infer_mode='every'``, the default), the dataset's earlier assistant turns
(``'every_with_gt'``), or only the last turn is generated after the dataset's history
(``'last'``). The rows of a batch are answered turn by turn together.

The prediction of a row is the list of rounds ``{'round', 'user', 'assistant'}``, as OpenCompass
writes it for subjective datasets.

``temperature`` (MT-Bench samples some categories at 0.7) reaches a backend that samples, an API
model for instance; a backend that decodes greedily only (evalkit's Hugging Face backend) says so
in the log and decodes greedily.
"""
import inspect
from contextlib import contextmanager

from ...models.base import ROLE_NAMES
from ...utils.logging import get_logger
from .base import BaseInferencer

logger = get_logger()
_ROLE_OF = {v: k for k, v in ROLE_NAMES.items()}  # user -> HUMAN, as the prompt templates name roles
INFER_MODES = ('every', 'every_with_gt', 'last')


def _template_dialogue(turns):
    """A rendered template's turns as dialogue turns (plain-string separators dropped)."""
    dialogue = [{'role': ROLE_NAMES.get(t['role'], t['role']).lower(), 'content': t.get('prompt', '')}
                for t in turns if isinstance(t, dict)]
    if not dialogue or dialogue[-1]['role'] != 'assistant':
        dialogue.append({'role': 'assistant', 'content': ''})
    return dialogue


def takes_temperature(model):
    try:
        params = inspect.signature(model.generate).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == 'temperature' or p.kind is p.VAR_KEYWORD for p in params)


class ChatInferencer(BaseInferencer):
    mode = 'chat'

    def __init__(self, max_out_len=None, infer_mode='every', temperature=None, do_sample=None,
                 stopping_criteria=(), **kwargs):
        super().__init__(**kwargs)
        if infer_mode not in INFER_MODES:
            raise ValueError(f'infer_mode {infer_mode!r}: use one of {", ".join(INFER_MODES)}')
        self.max_out_len = max_out_len
        self.infer_mode = infer_mode
        # OpenCompass configs say do_sample=False with temperature 0: both mean greedy.
        self.temperature = None if do_sample is False else temperature
        self.stopping_criteria = list(stopping_criteria or ())

    # ----------------------------------------------------------- requests
    def render(self, model, template, row, ice, output_column):
        if isinstance(row.get('dialogue'), list):
            return [{'role': t['role'], 'content': t.get('content') or ''} for t in row['dialogue']]
        return _template_dialogue(template.render(row, ice=ice, blank_column=output_column))

    def sent_len(self, model, prompt):
        return model.token_len(model.prepare(self._turns([t for t in prompt if t['role'] != 'assistant'])))

    @staticmethod
    def _turns(dialogue):
        return [{'role': _ROLE_OF.get(t['role'], t['role']), 'prompt': t['content']} for t in dialogue]

    def _answered(self, dialogue):
        """Indices of the assistant turns the model writes."""
        slots = [i for i, t in enumerate(dialogue) if t['role'] == 'assistant']
        return slots[-1:] if self.infer_mode == 'last' else slots

    # ----------------------------------------------------------- generation
    @contextmanager
    def _sampling(self, model):
        """The generate() keyword arguments that apply ``temperature``. A backend whose requests
        carry its own ``temperature`` setting (an API model) gets it set for this dataset only."""
        if not self.temperature:
            yield {}
        elif takes_temperature(model):
            yield {'temperature': self.temperature}
        elif hasattr(model, 'temperature'):
            saved, model.temperature = model.temperature, self.temperature
            try:
                yield {}
            finally:
                model.temperature = saved
        else:
            logger.info('%s decodes greedily: temperature=%s is not applied', type(model).__name__,
                        self.temperature)
            yield {}

    def infer(self, model, requests, done=None, on_batch=None, desc='chat'):
        max_out_len = self.max_out_len or model.max_out_len

        def run_batch(batch, kwargs):
            dialogues = [[dict(t) for t in r['origin_prompt']] for r in batch]
            slots = [self._answered(d) for d in dialogues]
            for turn in range(max((len(s) for s in slots), default=0)):
                rows = [k for k, s in enumerate(slots) if turn < len(s)]
                prompts = [model.prepare(self._turns(dialogues[k][:slots[k][turn]])) for k in rows]
                outputs = model.generate(prompts, max_out_len, self.stopping_criteria, **kwargs)
                for k, text in zip(rows, outputs):
                    answer = dialogues[k][slots[k][turn]]
                    if self.infer_mode == 'every_with_gt':
                        answer['generated'] = text
                    else:
                        answer['content'] = text
            return [dict(r, prediction=self.rounds(d)) for r, d in zip(batch, dialogues)]

        with self._sampling(model) as kwargs:
            return self.run_plan(requests, self.batch_size or model.batch_size, done, on_batch,
                                 lambda batch: run_batch(batch, kwargs), desc)

    @staticmethod
    def rounds(dialogue):
        """The dialogue as rounds: each user turn with the assistant turn that answers it."""
        rounds = []
        for i, turn in enumerate(dialogue):
            if turn['role'] == 'user':
                answer = dialogue[i + 1] if i + 1 < len(dialogue) and dialogue[i + 1]['role'] == 'assistant' else {}
                rounds.append({'round': len(rounds) + 1, 'user': turn['content'],
                               'assistant': answer.get('generated', answer.get('content', ''))})
        return rounds
