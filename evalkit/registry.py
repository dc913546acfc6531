"""Building objects from config dicts.

``type=`` may be a class or function, a dotted import path (``'evalkit.openicl.GenInferencer'``),
or a bare public name found in one of evalkit's packages. OpenCompass dotted paths
(``'opencompass.openicl.icl_inferencer.GenInferencer'``) resolve by their last name, so configs
written for OpenCompass need no edits for the pieces evalkit provides.
"""
import importlib
import inspect

from .utils.errors import EvalkitError

_NAMESPACES = ('evalkit.models', 'evalkit.datasets', 'evalkit.openicl', 'evalkit.partitioners',
               'evalkit.runners', 'evalkit.summarizers', 'evalkit.tasks')


def resolve(type_):
    """The class or function a config's ``type`` names."""
    if not isinstance(type_, str):
        return type_
    from .openicl.postprocessors import POSTPROCESSORS
    if type_ in POSTPROCESSORS:
        return POSTPROCESSORS[type_]
    if '.' in type_:
        module_name, _, attr = type_.rpartition('.')
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError):
            pass
    name = type_.rpartition('.')[2]
    for namespace in _NAMESPACES:
        module = importlib.import_module(namespace)
        if hasattr(module, name):
            return getattr(module, name)
    raise EvalkitError(f'unknown type {type_!r}: not an import path, nor a name exported by '
                       f'{", ".join(_NAMESPACES)}')


def build(cfg, **extra):
    """Instantiate ``cfg['type']`` with the rest of ``cfg`` (and ``extra``) as keyword arguments."""
    if cfg is None:
        return None
    cfg = dict(cfg)
    if 'type' not in cfg:
        raise EvalkitError(f'config dict has no type=: {cfg}')
    cls = resolve(cfg.pop('type'))
    cfg.update(extra)
    return cls(**cfg)


def accepted_kwargs(fn, kwargs):
    """The part of ``kwargs`` that ``fn`` accepts: all of it when it takes ``**kwargs``.

    A user's loader written for OpenCompass may take only ``path`` (or only ``**kwargs``); the
    tasks pass what it can take rather than fail on ``data_root=``.
    """
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: pass everything
        return dict(kwargs)
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return dict(kwargs)
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return {k: v for k, v in kwargs.items() if k in names}


def type_name(obj):
    """A dotted import path for a class or function, as written into saved configs."""
    if isinstance(obj, str):
        return obj
    return f'{obj.__module__}.{obj.__qualname__}'


def to_plain(value):
    """A config with every class or function replaced by its dotted path (JSON- and repr-safe)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, type) or callable(value):
        return type_name(value)
    return value
