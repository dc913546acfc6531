"""Prompt templates in OpenCompass's form.

A template is a string, a dict ``dict(begin=..., round=[dict(role=..., prompt=...)], end=...)``, or,
for perplexity scoring, a dict keyed by answer label whose values are either of those. ``{column}``
placeholders are filled with the row's values (plain replacement, so other braces stay as written).
``ice_token`` (usually ``'</E>'``) marks where the in-context examples go.

A rendered prompt is a list of turns: dicts ``{'role', 'prompt'}`` and plain-string separators.
The model decides how to present it (plain text or chat messages, see ``models/base.py``).
"""
import hashlib
import json

ICE_SEPARATOR = '\n'   # after each in-context example
ICE_END = '\n'         # after the last one


class PromptTemplate:

    def __init__(self, template, ice_token=None, sep_token=None):
        self.template = template
        self.ice_token = ice_token
        self.sep_token = sep_token

    @property
    def labels(self):
        """Answer labels of a perplexity template (keyed by label); None for a plain template."""
        if isinstance(self.template, dict) and not ({'round', 'begin', 'end'} & set(self.template)):
            return list(self.template)
        return None

    def _pick(self, label):
        labels = self.labels
        if labels is None:
            return self.template
        if label not in self.template:
            raise KeyError(f'template has no entry for label {label!r} (labels: {labels})')
        return self.template[label]

    def render(self, row, label=None, ice=None, blank_column=None):
        """The turns for one row; ``ice`` (turns) replaces the ice token; ``blank_column`` is emptied."""
        values = dict(row)
        if blank_column is not None:
            values[blank_column] = ''
        template = self._pick(label)
        if isinstance(template, str) and not ice:
            ice = [ICE_END]  # OpenCompass's mark where a plain-string template has no examples
        return _expand(template, values, self.ice_token, ice or [])

    def render_example(self, row, label):
        """One in-context example: the row with its answer filled in."""
        return _expand(self._pick(label), dict(row), ice_token=self.ice_token, ice=[])


def join_examples(examples):
    """The turns of several in-context examples, with the separators OpenCompass puts between them.
    Examples of a plain-string template become one text, as OpenCompass joins them."""
    if examples and all(len(e) == 1 and isinstance(e[0], str) for e in examples):
        return [ICE_SEPARATOR.join(e[0] for e in examples) + ICE_END]
    turns = []
    for example in examples:
        turns.extend(example)
        turns.append(ICE_SEPARATOR)
    if examples:
        turns.append(ICE_END)
    return turns


def fill(text, values):
    for key, value in values.items():
        text = text.replace('{' + str(key) + '}', '' if value is None else str(value))
    return text


def _expand(template, values, ice_token, ice):
    """Turns of a template, with the ice token replaced by ``ice`` wherever it stands alone."""
    def piece(text):
        if ice_token and text == ice_token:
            return list(ice)
        if ice_token and ice_token in text:
            before, after = text.split(ice_token, 1)
            return [fill(before, values)] + list(ice) + [fill(after, values)]
        return [fill(text, values)]

    if isinstance(template, str):
        if ice_token and ice_token in template and all(isinstance(t, str) for t in ice):
            # A plain-string template stays one text with its examples inside, as in OpenCompass.
            before, after = template.split(ice_token, 1)
            text = fill(before, values) + ''.join(ice) + fill(after, values)
            return [text] if text else []
        return [t for t in piece(template) if t != '' or isinstance(t, dict)]
    turns = []
    for part in ('begin', 'round', 'end'):
        value = template.get(part)
        if value is None:
            continue
        for item in (value if isinstance(value, list) else [value]):
            if isinstance(item, str):
                turns.extend(piece(item))
            else:
                turns.append({'role': item['role'], 'prompt': fill(item.get('prompt', ''), values)})
    return [t for t in turns if t != '']


def config_hash(*parts, length=6):
    """A short, stable hash of config dicts (types written by name), used as a dataset's version."""
    def default(obj):
        if isinstance(obj, type) or callable(obj):
            return f'{getattr(obj, "__module__", "")}.{getattr(obj, "__qualname__", repr(obj))}'
        return repr(obj)
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=default)
    return hashlib.md5(text.encode('utf-8')).hexdigest()[:length]
