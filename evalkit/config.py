"""Config files: loading them, finding them by name, abbreviations and version hashes."""
import difflib
import hashlib
import importlib
import inspect
import pprint
import sys
import traceback
import types
from pathlib import Path

from .openicl.prompt_template import config_hash
from .registry import to_plain
from .utils.errors import EvalkitError
from .utils.fileio import atomic_write_text
from .utils.paths import CONFIGS_DIR


def load_config(path):
    """A config file as a plain dict of its public values.

    The file runs as a real Python module, so it may call functions (config variants are generated
    that way). ``with read_base():`` blocks of relative imports (``from .datasets.ceval.ceval_gen
    import ceval_datasets``) resolve against the project's ``configs/`` folder when the file lies in
    it, else against the file's own folder, as with mmengine.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise EvalkitError(f'config file not found: {path}')
    root = CONFIGS_DIR if CONFIGS_DIR in path.parents else path.parent
    package = _config_package(root)
    name = '.'.join([package] + list(path.relative_to(root).with_suffix('').parts))
    for loaded in [m for m in sys.modules if m == package + '.' or m.startswith(package + '.')]:
        del sys.modules[loaded]  # configs may read the environment: run them afresh every time
    try:
        module = importlib.import_module(name)
    except EvalkitError:
        raise
    except Exception as exc:  # a user's config can fail in any way: name the file, line and cause
        where = _config_line(exc, root)
        raise EvalkitError(f'cannot load config {path}{where}: {type(exc).__name__}: '
                           f'{str(exc).splitlines()[0] if str(exc) else ""}'.rstrip(': ')) from exc
    return {k: v for k, v in vars(module).items()
            if not k.startswith('_') and not isinstance(v, types.ModuleType)
            and not inspect.isclass(v) and not inspect.isroutine(v)}


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
