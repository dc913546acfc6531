"""Key/value caches for evalkit's own decoding loop.

transformers' dynamic cache appends by concatenation, which copies the whole cache at every decoding
step: with prompts of a few thousand tokens that copy costs more than the step itself. The caches
made here keep room for the tokens still to come and write each step's keys and values in place.
"""
from transformers.cache_utils import DynamicCache, DynamicLayer, DynamicSlidingWindowLayer

# Layers that hold plain keys and values per token. Others (indexed attention, recurrent states of
# linear-attention layers) keep their own cache classes.
_PER_TOKEN = (DynamicLayer, DynamicSlidingWindowLayer)


class ReservedLayer(DynamicLayer):
    """One layer's keys and values in buffers with ``room`` free positions at the end.

    ``keys`` and ``values`` are views of the filled part, so attention sees exactly what a
    dynamic layer would hold; the buffers grow (by ``room`` again) only when they run full.
    """

    def __init__(self, room):
        super().__init__()
        self.room = max(int(room), 1)
        self._key_buffer = self._value_buffer = None

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        filled = self.get_seq_length()
        end = filled + key_states.shape[-2]
        if self._key_buffer is None or end > self._key_buffer.shape[-2]:
            self._key_buffer = _grown(self.keys, filled, end + self.room, key_states)
            self._value_buffer = _grown(self.values, filled, end + self.room, value_states)
        self._key_buffer[..., filled:end, :] = key_states
        self._value_buffer[..., filled:end, :] = value_states
        self.keys = self._key_buffer[..., :end, :]
        self.values = self._value_buffer[..., :end, :]
        return self.keys, self.values

    def hold(self, key_buffer, value_buffer, filled):
        """Take over buffers whose first ``filled`` positions hold the cache."""
        self.lazy_initialization(key_buffer, value_buffer)
        self._key_buffer, self._value_buffer = key_buffer, value_buffer
        self.keys = key_buffer[..., :filled, :]
        self.values = value_buffer[..., :filled, :]

    def batch_select_indices(self, indices):
        if self.get_seq_length() > 0:
            self._key_buffer = self._key_buffer[indices]
            self._value_buffer = self._value_buffer[indices]
            end = self.keys.shape[-2]
            self.keys = self._key_buffer[..., :end, :]
            self.values = self._value_buffer[..., :end, :]


def _grown(filled_part, filled, size, like):
    buffer = like.new_empty(like.shape[0], like.shape[1], size, like.shape[3])
    if filled:
        buffer[..., :filled, :] = filled_part
    return buffer


def cache_with_room(config, layers_kv, room):
    """A cache for ``config``'s model holding ``layers_kv`` (one (keys, values) pair per layer, or
    None for an empty cache), with room for ``room`` more tokens.

    Sliding-window layers are held whole too: the model's attention mask already limits what each
    token sees, and a whole cache can be cut at any token, which the shared-head cache needs."""
    cache = DynamicCache(config=config)
    cache.layers = [ReservedLayer(room) if type(layer) in _PER_TOKEN else layer for layer in cache.layers]
    for layer, (keys, values) in zip(cache.layers, layers_kv or ()):
        layer.update(keys, values)
    return cache


def is_sliceable(config):
    """Whether every layer's cache is keys and values per token, which can be cut at any token
    and padded; not so for a recurrent state (linear-attention layers of hybrid models)."""
    return all(isinstance(layer, ReservedLayer) for layer in cache_with_room(config, None, 1).layers)


def merged_cache(config, row_caches, room):
    """One cache for a batch made of single-row caches of different lengths: rows padded on the
    left to the longest, with room for ``room`` more tokens. Each row's own cache is freed as it
    is copied, so the batch never holds two copies of the whole context."""
    cache = cache_with_room(config, None, room)
    for index, layer in enumerate(cache.layers):
        rows = [row.layers[index] for row in row_caches]
        width = max(row.keys.shape[-2] for row in rows)
        buffers = []
        for part in ('keys', 'values'):
            first = getattr(rows[0], part)
            # zeros, not garbage: masked positions still meet the values (0 * NaN is NaN)
            buffer = first.new_zeros(len(rows), first.shape[1], width + room, first.shape[3])
            for i, row in enumerate(rows):
                held = getattr(row, part)
                buffer[i, :, width - held.shape[-2]:width] = held[0]
            buffers.append(buffer)
        for row in rows:
            row.keys = row.values = row._key_buffer = row._value_buffer = None
        layer.hold(*buffers, width)
    return cache
