"""Hugging Face transformers models: base (plain text) and chat (the tokenizer's chat template).

A model path is a model folder, a hub name, or a ``.gguf`` file, which transformers de-quantises
on load. Prompts are fitted to ``max_seq_len`` by dropping tokens from the left; batches are padded
on the left for generation and on the right for scoring.
"""
import inspect
import os
import warnings

from ..utils.errors import EvalkitError
from ..utils.logging import get_logger
from . import gguf_cache
from .base import BaseModel
from .sources import HUB_ID

logger = get_logger()

_DTYPES = ('float32', 'float16', 'bfloat16')


def split_model_path(path, kwargs):
    """(folder or hub name, kwargs with ``gguf_file`` set) for a path that may name a .gguf file."""
    kwargs = dict(kwargs or {})
    path = os.path.expanduser(str(path))
    if path.endswith('.gguf'):
        if not os.path.isfile(path):
            raise EvalkitError(f'model file not found: {path} (give --hf-path an existing .gguf file or model folder)')
        kwargs.setdefault('gguf_file', os.path.basename(path))
        path = os.path.dirname(os.path.abspath(path))
    elif not os.path.exists(path) and not HUB_ID.fullmatch(path):
        raise EvalkitError(f'model path not found: {path} (give --hf-path an existing model folder, '
                           'a .gguf file, or a hub name such as Qwen/Qwen2.5-0.5B-Instruct)')
    return path, kwargs


def pick_dtype(requested, device, bf16_supported=False):
    """(dtype name or 'auto', why) for loading on ``device`` ('cpu' or 'cuda').

    Unasked, a GPU gets bfloat16 when it supports it (float16 otherwise) and the CPU float32:
    half precision on a CPU is slow and rounds enough to change answers, and 'auto' (the
    checkpoint's own dtype, often half precision) is taken as float32 there for the same reason.
    """
    name = None if requested is None else str(requested).replace('torch.', '')
    if device == 'cpu' and name in (None, 'auto'):
        return 'float32', ('the CPU default' if name is None
                           else "'auto' on the CPU: the checkpoint's half precision would be slow there")
    if name is None:
        return ('bfloat16', 'the GPU supports it') if bf16_supported else ('float16', 'this GPU lacks bfloat16')
    return name, 'as asked'


def _resolve_dtype(torch, value):
    if value in (None, 'auto'):
        return 'auto'
    if isinstance(value, str):
        name = value.replace('torch.', '')
        if name not in _DTYPES:
            raise EvalkitError(f"unknown torch_dtype {value!r}: use one of {', '.join(_DTYPES)} or 'auto'")
        return getattr(torch, name)
    return value


class HuggingFaceBaseModel(BaseModel):
    """A causal LM that sees prompts as plain text."""

    def __init__(self, path, tokenizer_path=None, tokenizer_kwargs=None, model_kwargs=None,
                 generation_kwargs=None, max_seq_len=2048, max_out_len=512, batch_size=8,
                 stop_words=(), run_cfg=None, abbr=None, **unused):
        super().__init__(abbr=abbr, max_seq_len=max_seq_len, max_out_len=max_out_len,
                         batch_size=batch_size, stop_words=stop_words,
                         generation_kwargs=generation_kwargs)
        import torch
        self.torch = torch
        if self.generation_kwargs:
            logger.warning('generation_kwargs %s are kept with the model config but not applied: '
                           'evalkit decodes greedily, as benchmark scores need', self.generation_kwargs)
        num_gpus = (run_cfg or {}).get('num_gpus', 0)
        self.device = self._pick_device(num_gpus)
        model_kwargs = dict(model_kwargs or {})
        requested = model_kwargs.pop('torch_dtype', model_kwargs.pop('dtype', None))
        dtype, why = pick_dtype(requested, self.device,
                                self.device != 'cpu' and torch.cuda.is_bf16_supported())
        if self.device == 'cpu' and dtype == 'float16':
            logger.warning('%s: float16 on the CPU, as asked: slow, and its rounding can change answers '
                           '(float32 is the CPU default)', self.abbr or path)
        logger.info('%s: %s on %s (%s)', self.abbr or path, dtype, self.device, why)
        self.dtype = _resolve_dtype(torch, dtype)
        tokenizer_path = tokenizer_path or path
        path, model_kwargs = split_model_path(path, model_kwargs)
        cache_to = None
        gguf = model_kwargs.get('gguf_file')
        if gguf and gguf_cache.enabled():
            folder = gguf_cache.folder_for(os.path.join(path, gguf), str(self.dtype))
            tokenizer_same = (split_model_path(tokenizer_path, {})[0] == path
                              and 'gguf_file' not in (tokenizer_kwargs or {}))
            if gguf_cache.is_ready(folder):
                model_kwargs.pop('gguf_file')
                path = str(folder)
                if tokenizer_same:
                    tokenizer_path = path
            elif tokenizer_same:
                cache_to = folder
        self._load_tokenizer(tokenizer_path, tokenizer_kwargs, model_kwargs, path)
        self._load_model(path, model_kwargs)
        if cache_to is not None:
            gguf_cache.store(self.model, self.tokenizer, cache_to)
        self.eos_ids = self._end_token_ids()
        # transformers 5 renamed the cache argument; older releases still call it past_key_values.
        params = inspect.signature(self.model.forward).parameters
        self._cache_arg = 'cache' if 'cache' in params else 'past_key_values'
        self._prefix = None
        from .kv_cache import is_sliceable
        # A recurrent layer state cannot be cut at a token or padded: no shared head, no merged batch.
        self._sliceable = is_sliceable(self.model.config)

    # ---------------------------------------------------------------- loading
    def _pick_device(self, num_gpus):
        if self.torch.cuda.is_available():
            return 'cuda'
        if num_gpus:
            logger.warning('no GPU found: running on the CPU although num_gpus=%s was asked for', num_gpus)
        return 'cpu'

    def _load_tokenizer(self, tok_path, tokenizer_kwargs, model_kwargs, model_path):
        from transformers import AutoTokenizer
        kwargs = dict(tokenizer_kwargs or {})
        # A GGUF file carries its tokenizer: read it from the same file unless told otherwise.
        if 'gguf_file' not in kwargs and tok_path == model_path:
            kwargs.setdefault('gguf_file', (model_kwargs or {}).get('gguf_file'))
            if kwargs['gguf_file'] is None:
                kwargs.pop('gguf_file')
        tok_path, kwargs = split_model_path(tok_path, kwargs)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(tok_path, **kwargs)
        except (OSError, ValueError) as exc:
            raise EvalkitError(f'cannot load the tokenizer from {tok_path}: {_first_line(exc)}') from exc
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def _load_model(self, path, model_kwargs):
        from transformers import AutoModelForCausalLM
        path, kwargs = split_model_path(path, model_kwargs)
        if kwargs.get('device_map') is not None and self.device == 'cpu':
            logger.warning("device_map=%r ignored: no GPU found, loading on the CPU", kwargs['device_map'])
            kwargs.pop('device_map')
        kwargs['dtype'] = self.dtype
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                self.model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
        except (OSError, ValueError, RuntimeError) as exc:
            raise EvalkitError(f'cannot load the model from {path}: {_first_line(exc)}') from exc
        if 'device_map' not in kwargs:
            self.model.to(self.device)
        self.model.eval()

    def _end_token_ids(self):
        ids = set()
        eos = self.model.generation_config.eos_token_id
        for value in (eos if isinstance(eos, (list, tuple)) else [eos]):
            if value is not None:
                ids.add(int(value))
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    # ---------------------------------------------------------------- tokens
    def encode(self, prompt):
        """Token ids of a prepared prompt, left-truncated to max_seq_len."""
        ids = self.tokenizer(prompt, add_special_tokens=True)['input_ids']
        return ids[-self.max_seq_len:] if self.max_seq_len else ids

    def token_len(self, prompt):
        return len(self.tokenizer(prompt, add_special_tokens=True)['input_ids'])

    # ---------------------------------------------------------------- shared prefix
    # Prompts of one dataset share a long head (the in-context examples). Its key/value cache is
    # computed once and reused by every later prompt that starts with the same tokens; a test
    # checks that the logits equal those of the plain computation.
    MIN_SHARED = 16

    def _head_for(self, seqs, with_nll):
        """The cached head these sequences share, computed anew when the cached one does not fit.

        The head is the common prefix of the sequences that start like most of the batch; a
        prompt that starts otherwise (cut on the left to fit max_seq_len) simply runs alone.
        """
        anchor = max(seqs, key=lambda s: sum(_common_prefix_len([s, o]) >= self.MIN_SHARED for o in seqs))
        group = [s for s in seqs if _common_prefix_len([anchor, s]) >= self.MIN_SHARED]
        if not group:  # every prompt is shorter than a head worth caching
            return None
        common = _common_prefix_len(group)
        cached = self._prefix
        if cached is not None and (cached['nll'] is not None or not with_nll):
            shared = _common_prefix_len([cached['ids'], anchor])
            if shared >= self.MIN_SHARED and shared >= 0.5 * common:
                return cached
        head = anchor[:min(common, min(len(s) for s in group) - 1)]
        if len(head) <= self.MIN_SHARED:
            return None
        torch = self.torch
        ids = torch.tensor([head], device=self.device)
        with torch.inference_mode():
            out = self.model(input_ids=ids, use_cache=True, logits_to_keep=0 if with_nll else 1,
                             **{self._cache_arg: self._head_cache(None, 0)})
            token_nll = _token_nll(torch, out.logits[0, :-1], ids[0, 1:]) if with_nll else None
        kv = [(layer.keys, layer.values) for layer in self._cache_of(out).layers]
        self._prefix = {'ids': list(head), 'kv': kv, 'nll': token_nll}
        return self._prefix

    def _split(self, head, ids, own):
        """(K, the head's cache for the first K tokens of ``ids``, summed NLL of tokens 1..K).

        K stops one token short of where the head and ``ids`` part, so that the cached log-prob
        of token K belongs to ``ids`` too, and leaves ``own`` tokens to run. K is 0 when too
        little is shared for the cache to pay.
        """
        if head is None:
            return 0, None, 0.0
        k = min(_common_prefix_len([head['ids'], ids]), len(ids) - own + 1) - 1
        if k < self.MIN_SHARED:
            return 0, None, 0.0
        nll = float(head['nll'][:k].sum()) if head['nll'] is not None else None
        return k, [(key[:, :, :k], value[:, :, :k]) for key, value in head['kv']], nll

    def _head_cache(self, kv, room):
        """A fresh cache holding the head's keys and values (None: an empty one), with room for
        ``room`` more tokens. The head's own tensors are copied, never changed, so the head serves
        every prompt."""
        from .kv_cache import cache_with_room
        return cache_with_room(self.model.config, kv, room)

    # ---------------------------------------------------------------- generation
    def generate(self, prompts, max_out_len, stop_words=()):
        stops = [s for s in list(stop_words or ()) + self.stop_words if s]
        encoded = [self.encode(p) for p in prompts]
        return self.generate_ids(encoded, max_out_len, stops)

    def generate_ids(self, encoded, max_out_len, stops, use_prefix_cache=True):
        """Greedy decoding of token-id lists.

        The shared head comes from the cache; each prompt's own tail runs alone, so no compute is
        spent on padding; the rows that go on past their first token are then decoded together.
        """
        torch = self.torch
        head = self._head_for(encoded, with_nll=False) if use_prefix_cache and self._sliceable else None
        out_tokens = [[] for _ in encoded]
        done = [max_out_len < 1] * len(encoded)
        caches = [None] * len(encoded)
        # Rows that go on are copied into one batch cache with room for the answers; a row
        # decoded on its own cache (a recurrent-state model) needs that room from the start.
        answer_room = 0 if self._sliceable else max_out_len
        with torch.inference_mode():
            for row, ids in enumerate(encoded):
                if done[row]:
                    continue
                k, kv, _ = self._split(head, ids, own=1)
                tail = torch.tensor([ids[k:]], device=self.device)
                positions = torch.arange(k, len(ids), device=self.device)[None]
                out = self.model(input_ids=tail, position_ids=positions, use_cache=True, logits_to_keep=1,
                                 **{self._cache_arg: self._head_cache(kv, tail.shape[1] + answer_room)})
                caches[row] = self._cache_of(out)
                self._accept(row, int(out.logits[0, -1].argmax()), out_tokens, done, stops, max_out_len)
            live = [row for row in range(len(encoded)) if not done[row]]
            for rows in ([live] if self._sliceable and live else [[row] for row in live]):
                self._decode_together(rows, [len(encoded[r]) for r in rows], [caches[r] for r in rows],
                                      out_tokens, done, stops, max_out_len)
        texts = [self.tokenizer.decode(tokens, skip_special_tokens=True) for tokens in out_tokens]
        return [cut_at_stop(text, stops) for text in texts]

    def _cache_of(self, out):
        return out.cache if self._cache_arg == 'cache' else out.past_key_values

    def _accept(self, row, token, out_tokens, done, stops, max_out_len):
        if token in self.eos_ids:
            done[row] = True
            return
        out_tokens[row].append(token)
        if len(out_tokens[row]) >= max_out_len or (stops and self._hits_stop(out_tokens[row], stops)):
            done[row] = True

    def _decode_together(self, live, lengths, caches, out_tokens, done, stops, max_out_len):
        """Decode the rows in ``live`` as one batch: their caches are merged, padded on the left,
        into one with room for every token still to come (a model whose caches cannot be merged
        decodes one row at a time on the row's own cache, which has that room already). Once half
        the rows are finished the batch is cut down to the rest, so long answers do not drag
        finished rows along."""
        from .kv_cache import merged_cache
        torch = self.torch
        past = merged_cache(self.model.config, caches, room=max_out_len) if self._sliceable else caches[0]
        width = max(lengths)
        mask = torch.tensor([[0] * (width - n) + [1] * n for n in lengths], device=self.device)
        positions = torch.tensor([[n] for n in lengths], device=self.device)
        step_ids = torch.tensor([[out_tokens[r][-1]] for r in live], device=self.device)
        while True:
            going = [i for i, row in enumerate(live) if not done[row]]
            if not going:
                return
            if len(going) <= len(live) // 2:
                keep = torch.tensor(going, device=self.device)
                past.batch_select_indices(keep)
                live, mask, positions, step_ids = [live[i] for i in going], mask[keep], positions[keep], step_ids[keep]
            mask = torch.cat([mask, mask.new_ones((len(live), 1))], dim=1)
            out = self.model(input_ids=step_ids, attention_mask=mask, position_ids=positions,
                             use_cache=True, logits_to_keep=1, **{self._cache_arg: past})
            past = self._cache_of(out)
            next_ids = out.logits[:, -1, :].argmax(-1)
            for i, row in enumerate(live):
                if not done[row]:
                    self._accept(row, int(next_ids[i]), out_tokens, done, stops, max_out_len)
            step_ids = next_ids[:, None]
            positions = positions + 1

    def _hits_stop(self, tokens, stops):
        tail = self.tokenizer.decode(tokens[-8:], skip_special_tokens=False)
        return any(s in tail for s in stops)

    # ---------------------------------------------------------------- scoring
    def choice_nll(self, groups):
        """Mean token NLL of each text of each group (the full text, as perplexity is defined)."""
        flat = [self.encode(t) for texts in groups for t in texts]
        nll = self.sequence_nll(flat)
        out, i = [], 0
        for texts in groups:
            out.append([nll[i + j] / len(flat[i + j]) for j in range(len(texts))])
            i += len(texts)
        return out

    def sequence_nll(self, seqs, use_prefix_cache=True):
        """Summed NLL of tokens 2..n of each sequence.

        The shared head comes from the cache; sequences that differ only in their last token (the
        options of one question) share one pass over their body, each body run alone (no padding),
        and are told apart by the log-probs at its end.
        """
        torch = self.torch
        head = self._head_for(seqs, with_nll=True) if use_prefix_cache and self._sliceable else None
        scored, result = {}, []
        with torch.inference_mode():
            for ids in seqs:
                k, kv, head_nll = self._split(head, ids, own=2)
                key = (k, tuple(ids[k:-1]))
                if key not in scored:
                    tokens = torch.tensor([ids[k:-1]], device=self.device)
                    positions = torch.arange(k, len(ids) - 1, device=self.device)[None]
                    out = self.model(input_ids=tokens, position_ids=positions, use_cache=kv is not None,
                                     **{self._cache_arg: self._head_cache(kv, tokens.shape[1]) if kv else None})
                    # Position j predicts token j+1 of the body; the last position predicts the option.
                    body_nll = float(_token_nll(torch, out.logits[0, :-1], tokens[0, 1:]).sum())
                    scored[key] = (head_nll + body_nll, torch.log_softmax(out.logits[0, -1].float(), dim=-1))
                shared_nll, last = scored[key]
                result.append(shared_nll - float(last[ids[-1]]))
        return result


class HuggingFacewithChatTemplate(HuggingFaceBaseModel):
    """A chat model: prompts become messages rendered by the tokenizer's chat template."""

    is_chat = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not getattr(self.tokenizer, 'chat_template', None):
            raise EvalkitError(f'the tokenizer of {self.abbr or "this model"} has no chat template: '
                               'use --hf-type base')

    def render(self, messages):
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def encode(self, prompt):
        if isinstance(prompt, str):  # plain text, e.g. the options scored in ppl mode
            return super().encode(prompt)
        # The template already holds any special tokens the model expects.
        ids = self.tokenizer(self.render(prompt), add_special_tokens=False)['input_ids']
        return ids[-self.max_seq_len:] if self.max_seq_len else ids

    def token_len(self, prompt):
        if isinstance(prompt, str):
            return super().token_len(prompt)
        return len(self.tokenizer(self.render(prompt), add_special_tokens=False)['input_ids'])

    def fit_len(self, prompt):
        """A chat prompt measured as OpenCompass measures it when it fits in-context examples: all
        turns joined into one user message. That undercounts the per-turn markup a little, but it
        keeps the same examples as OpenCompass, hence the same answers; the few prompts it lets run
        over max_seq_len lose their first tokens, and the task log counts them."""
        if isinstance(prompt, str):
            return super().token_len(prompt)
        return self.token_len([{'role': 'user', 'content': ''.join(m['content'] for m in prompt)}])


def cut_at_stop(text, stops):
    cut = len(text)
    for stop in stops:
        pos = text.find(stop)
        if pos != -1:
            cut = min(cut, pos)
    return text[:cut]


def _first_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _token_nll(torch, logits, targets, chunk=256):
    """NLL of each target under the logits before it, a chunk of positions at a time, so that
    no second vocabulary-sized copy of the whole sequence is ever held."""
    parts = [torch.nn.functional.cross_entropy(logits[i:i + chunk].float(), targets[i:i + chunk],
                                               reduction='none')
             for i in range(0, len(targets), chunk)]
    return torch.cat(parts) if parts else logits.new_zeros(0)


def _common_prefix_len(seqs):
    first = seqs[0]
    n = min(len(s) for s in seqs)
    for other in seqs[1:]:
        i = 0
        while i < n and other[i] == first[i]:
            i += 1
        n = i
    return n
