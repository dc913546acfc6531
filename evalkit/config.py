"""Config files: loading them, finding them by name, abbreviations and version hashes."""
import difflib
import hashlib
import importlib
import inspect
import os
import pprint
import sys
import traceback
import types
from pathlib import Path

from .openicl.prompt_template import config_hash
from .registry import to_plain
from .utils.errors import EvalkitError
from .utils.fileio import atomic_write_text
from .utils.logging import get_logger
from .utils.paths import CONFIGS_DIR

# The folders of the config files loaded in this run, for worker processes (they inherit the
# environment): a user's module imported by a config imports there again when a task names it.
IMPORT_PATHS_ENV = 'EVALKIT_IMPORT_PATHS'

# Modules that configs imported from their own folders; dropped before the next config loads, so
# an edited module is read again and a same-named module of another folder is not mistaken for it.
_USER_MODULES = set()


def load_config(path):
    """A config file as a plain dict of its public values.

    The file runs as a real Python module, so it may call functions (config variants are generated
    that way). ``with read_base():`` blocks of relative imports (``from .datasets.ceval.ceval_gen
    import ceval_datasets``) resolve against the project's ``configs/`` folder when the file lies in
    it, else against the file's own folder, as with mmengine.

    A config outside ``configs/`` may import the user's own modules from its folder, with plain
    ``import`` statements or mmengine's ``custom_imports = dict(imports=['mydataset'])``; string
    types (``type='MyDataset'``) then name what those modules define.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise EvalkitError(f'config file not found: {path}')
    root = CONFIGS_DIR if CONFIGS_DIR in path.parents else path.parent
    package = _config_package(root)
    name = '.'.join([package] + list(path.relative_to(root).with_suffix('').parts))
    for loaded in [m for m in sys.modules if m == package + '.' or m.startswith(package + '.')]:
        del sys.modules[loaded]  # configs may read the environment: run them afresh every time
    for loaded in _USER_MODULES:
        sys.modules.pop(loaded, None)
    _USER_MODULES.clear()
    share_import_path(root)
    before = set(sys.modules)
    try:
        module = importlib.import_module(name)
    except EvalkitError:
        raise
    except Exception as exc:  # a user's config can fail in any way: name the file, line and cause
        where = _config_line(exc, root)
        raise EvalkitError(f'cannot load config {path}{where}: {type(exc).__name__}: '
                           f'{str(exc).splitlines()[0] if str(exc) else ""}'.rstrip(': ')) from exc
    cfg = {k: v for k, v in vars(module).items()
           if not k.startswith('_') and not isinstance(v, types.ModuleType)
           and not inspect.isclass(v) and not inspect.isroutine(v)}
    custom = custom_imports(cfg.get('custom_imports'), path)
    _USER_MODULES.update(_modules_from(root, set(sys.modules) - before, before))
    return bind_type_names(cfg, custom) if custom else cfg


def _modules_from(root, names, before):
    """Those of the newly imported ``names`` whose top-level module or package lies in ``root``."""
    for name in names:
        top = name.partition('.')[0]
        file = getattr(sys.modules.get(top), '__file__', None)
        if top in before or not file:
            continue
        file = Path(file)
        if (file.parent.parent if file.name == '__init__.py' else file.parent) == root:
            yield name


def custom_imports(spec, config_path):
    """The modules named by mmengine's ``custom_imports = dict(imports=[...], allow_failed_imports=False)``.

    Module names resolve against the config's folder first, then ``sys.path``.
    """
    if not spec:
        return []
    if not isinstance(spec, dict) or 'imports' not in spec:
        raise EvalkitError(f'{config_path}: write custom_imports as '
                           "dict(imports=['mymodule'], allow_failed_imports=False)")
    names = [spec['imports']] if isinstance(spec['imports'], str) else list(spec['imports'])
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except Exception as exc:  # a user's module can fail in any way: name it, its line and cause
            message = (f'{config_path}: custom_imports: cannot import {name!r}{_module_line(exc)}: '
                       f'{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}; '
                       'modules are looked for next to the config, then on sys.path')
            if not spec.get('allow_failed_imports'):
                raise EvalkitError(message) from exc
            get_logger().warning('%s (skipped: allow_failed_imports=True)', message)
    return modules


def bind_type_names(value, modules):
    """``type='MyDataset'`` replaced by the object when one of ``modules`` defines that name, so
    the saved task config names it by import path (``mydataset.MyDataset``) for the workers."""
    if isinstance(value, list):
        return [bind_type_names(v, modules) for v in value]
    if not isinstance(value, dict):
        return value
    bound = {k: bind_type_names(v, modules) for k, v in value.items()}
    name = bound.get('type')
    if isinstance(name, str) and name.isidentifier():
        found = [getattr(m, name) for m in modules if hasattr(m, name)]
        if found:
            bound['type'] = found[0]
    return bound


def share_import_path(root):
    """Put a config's folder first on ``sys.path`` (configs outside ``configs/`` only) here and in
    worker processes, which read ``IMPORT_PATHS_ENV`` when they import this module."""
    root = Path(root)
    _use_folder(root, first=True)
    others = [p for p in os.environ.get(IMPORT_PATHS_ENV, '').split(os.pathsep) if p and p != str(root)]
    os.environ[IMPORT_PATHS_ENV] = os.pathsep.join([str(root)] + others)


def _use_folder(root, first=False):
    _config_package(root)  # modules a config imported relatively (from .mymodule import ...)
    if root == CONFIGS_DIR:
        return
    if first and str(root) in sys.path:
        sys.path.remove(str(root))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


def _module_line(exc):
    """' (file line N)' for where an import failed inside the user's module, if it did."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f' ({exc.filename} line {exc.lineno})'
    skip = (__file__, importlib.__file__)  # the frames that called the import, not the module's
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith('<') and f.filename not in skip]
    return f' ({frames[-1].filename} line {frames[-1].lineno})' if frames else ''


def _config_package(root):
    """A synthetic package whose path is ``root``, so config files import each other relatively."""
    package = '_evalkit_configs_' + hashlib.md5(str(root).encode()).hexdigest()[:8]
    if package not in sys.modules:
        module = types.ModuleType(package)
        module.__path__ = [str(root)]
        module.__package__ = package
        sys.modules[package] = module
    return package


def _config_line(exc, root):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if str(root) in f.filename]
    return f' (line {frames[-1].lineno} of {frames[-1].filename})' if frames else ''


def config_files(kind, configs_dir=CONFIGS_DIR):
    """name -> path of every config under configs/<kind>/ (files starting with _ are helpers)."""
    return {p.stem: p for p in sorted(Path(configs_dir, kind).rglob('*.py'))
            if not p.name.startswith('_')}


def find_config(kind, name, configs_dir=CONFIGS_DIR):
    files = config_files(kind, configs_dir)
    if name in files:
        return files[name]
    candidate = Path(name)
    if candidate.suffix == '.py' and candidate.is_file():
        return candidate
    close = difflib.get_close_matches(name, files, n=5, cutoff=0.5)
    close = close or sorted(n for n in files if name.split('_')[0] in n)[:5]
    hint = f'closest: {", ".join(close)}' if close else f'see: python tools/list_configs.py {name}'
    raise EvalkitError(f'no {kind[:-1]} config named {name!r} under configs/{kind}/ ({hint})')


def collect(cfg, suffix):
    """Every list bound to a name ending in ``suffix`` (``ceval_datasets``, ``models``), in order."""
    items = []
    for key, value in cfg.items():
        if key.endswith(suffix) and isinstance(value, list):
            items.extend(v for v in value if isinstance(v, dict))
    return items


def load_named(kind, names):
    """The dataset or model dicts of the named configs, in the order given."""
    suffix = '_datasets' if kind == 'datasets' else 'models'
    items = []
    for name in names:
        cfg = load_config(find_config(kind, name))
        found = collect(cfg, suffix) or (collect(cfg, 'datasets') if kind == 'datasets' else [])
        if not found:
            raise EvalkitError(f'config {name} defines no list named *{suffix}')
        items.extend(found)
    return items


def model_abbr(cfg):
    if cfg.get('abbr'):
        return cfg['abbr']
    path = str(cfg.get('path', 'model')).rstrip('/')
    return Path(path).stem if path.endswith('.gguf') else '_'.join(path.split('/')[-2:]).lstrip('_')


def dataset_abbr(cfg):
    if cfg.get('abbr'):
        return cfg['abbr']
    return '-'.join(str(p) for p in (Path(str(cfg.get('path', 'dataset'))).name, cfg.get('name')) if p)


def dataset_version(cfg):
    """6 hex characters that change whenever the prompt or inference settings change."""
    return config_hash(to_plain(cfg.get('reader_cfg', {})), to_plain(cfg.get('infer_cfg', {})))


def dump_config(cfg, path):
    """Write a resolved config as a Python file that ``run.py`` can run again as it is."""
    lines = ['# Resolved evalkit config; run again with: python run.py ' + str(path), '']
    for key, value in to_plain(cfg).items():
        lines.append(f'{key} = {pprint.pformat(value, width=100, sort_dicts=False)}')
        lines.append('')
    atomic_write_text(path, '\n'.join(lines))


for _folder in reversed(os.environ.get(IMPORT_PATHS_ENV, '').split(os.pathsep)):
    if _folder:
        _use_folder(Path(_folder))  # in a worker: the folders the run's configs came from
