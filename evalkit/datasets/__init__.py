"""Dataset loaders. Every public class and function of a module in this folder is exported here,
so a user's own module dropped into this folder (``mydataset.py`` defining ``MyDataset``,
``MyDatasetEvaluator``, ``mydataset_postprocess``) is imported by name, in a config or by ``type=``.

A module that fails to import stops the import of the whole package with an error naming the file:
skipping it would let the failure surface later as a bare "unknown type 'MyDataset'", far from its
cause and often inside a worker's log.
"""
import importlib
import inspect
import pkgutil
import traceback
from pathlib import Path

from ..utils.errors import EvalkitError
from .base import BaseDataset

__all__ = ['BaseDataset']


def _import_error(file, exc):
    """One line naming the module file, the line that failed and the cause."""
    line = getattr(exc, 'lineno', None) if isinstance(exc, SyntaxError) else None
    if line is None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(file)]
        line = frames[-1].lineno if frames else None
    where = f' line {line}' if line else ''
    cause = str(exc).splitlines()[0] if str(exc) else ''
    return EvalkitError(f'{file}{where}: cannot import this dataset module ({type(exc).__name__}: '
                        f'{cause}); fix it, or move it out of {file.parent}')


def _public_members(module):
    """Classes and functions defined in ``module`` itself (not imported into it), by name."""
    return {name: obj for name, obj in vars(module).items()
            if not name.startswith('_') and (inspect.isclass(obj) or inspect.isfunction(obj))
            and obj.__module__ == module.__name__}


def export_modules(package, namespace, names):
    """Import every module of ``package`` and put its public members into ``namespace``."""
    exported = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith('_') or info.name == 'base':
            continue
        folder = Path(info.module_finder.path)
        file = folder / info.name / '__init__.py' if info.ispkg else folder / f'{info.name}.py'
        try:
            module = importlib.import_module(f'{package.__name__}.{info.name}')
        except EvalkitError:
            raise
        except Exception as exc:  # a user's module can fail in any way: name the file
            raise _import_error(file, exc) from exc
        for name, obj in _public_members(module).items():
            # Helpers of two benchmarks may share a name: the first module (alphabetically) keeps
            # it, so a module added later never changes what an existing name means.
            exported.setdefault(name, obj)
    exported = {k: v for k, v in exported.items() if k not in names}
    names.extend(exported)
    namespace.update(exported)  # last: a user's name may shadow a helper used above


export_modules(importlib.import_module(__name__), globals(), __all__)
