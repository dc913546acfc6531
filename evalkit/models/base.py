"""The small interface every model backend implements.

A backend knows nothing about datasets or files. It turns a prompt (a list of turns built by the
prompt template) into what it sends, and answers three questions about such prompts: what it
generates, how likely a continuation is, and how many tokens a prompt takes.
"""
from abc import ABC, abstractmethod

ROLE_NAMES = {'HUMAN': 'user', 'BOT': 'assistant', 'SYSTEM': 'system'}


def turns_to_text(turns):
    """Flatten a prompt into plain text, the way a base model sees it.

    Items are joined by line breaks and empty ones are skipped. Separators between in-context
    examples are plain-string items, so five examples and a question render exactly as
    OpenCompass renders them for base models.
    """
    parts = []
    for item in turns:
        text = item if isinstance(item, str) else item.get('prompt', '')
        if text:
            parts.append(text)
    return '\n'.join(parts)


def turns_to_messages(turns):
    """Turn a prompt into chat messages: HUMAN/BOT/SYSTEM become user/assistant/system.

    Plain-string separators carry no role and are dropped; an empty turn (the slot the model is
    to fill) is dropped; consecutive turns of one role are merged with a line break. A last BOT
    turn is the one the model writes, so it is not sent even when the template starts it
    (``Answer: {answer}``): OpenCompass's chat models drop it too.
    """
    messages = []
    for item in turns:
        if isinstance(item, str) or not item.get('prompt'):
            continue
        role = ROLE_NAMES.get(item['role'], item['role'])
        if messages and messages[-1]['role'] == role:
            messages[-1]['content'] += '\n' + item['prompt']
        else:
            messages.append({'role': role, 'content': item['prompt']})
    if len(messages) > 1 and messages[-1]['role'] == ROLE_NAMES['BOT']:
        messages.pop()
    return messages


class BaseModel(ABC):
    """A language model as evalkit uses it.

    ``prepare`` turns a prompt built by a template into the model's own form: plain text for a base
    model, chat messages for a chat model. That form is what is stored in the predictions file as
    the prompt sent, and what ``generate`` and ``token_len`` take.
    """

    is_chat = False

    def __init__(self, abbr=None, max_seq_len=2048, max_out_len=512, batch_size=8,
                 stop_words=(), generation_kwargs=None):
        self.abbr = abbr
        self.max_seq_len = max_seq_len
        self.max_out_len = max_out_len
        self.batch_size = batch_size
        self.stop_words = list(stop_words or ())
        self.generation_kwargs = dict(generation_kwargs or {})

    def prepare(self, turns):
        return turns_to_messages(turns) if self.is_chat else turns_to_text(turns)

    @abstractmethod
    def generate(self, prompts, max_out_len, stop_words=()):
        """Greedy continuations of ``prompts`` (prepared prompts), cut at the first stop word."""

    @abstractmethod
    def choice_nll(self, groups):
        """Mean token negative log-likelihood of every text in each group of plain texts.

        A group holds the full texts of one question's options; texts of a group usually share a
        long prefix, which a backend may compute once.
        """

    @abstractmethod
    def token_len(self, prompt):
        """Number of tokens a prepared prompt takes."""

    def fit_len(self, prompt):
        """The length that decides how many in-context examples a prompt keeps (see max_seq_len)."""
        return self.token_len(prompt)

    def close(self):
        """Release what the model holds (memory, connections)."""
