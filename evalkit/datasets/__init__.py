"""Dataset loaders. Every public class of a module in this folder is exported here, so a user's
own module dropped into this folder is found by its class name in a config."""
import importlib
import inspect
import pkgutil

from .base import BaseDataset

__all__ = ['BaseDataset']

for _info in pkgutil.iter_modules(__path__):
    if _info.name.startswith('_') or _info.name == 'base':
        continue
    _module = importlib.import_module(f'{__name__}.{_info.name}')
    for _name, _obj in inspect.getmembers(_module, inspect.isclass):
        if _obj.__module__ == _module.__name__ and not _name.startswith('_'):
            globals()[_name] = _obj
            __all__.append(_name)
