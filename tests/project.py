"""What tests share that is not a fixture: the project folder, its tools as modules, and the
runs a test made in its work dir."""
import importlib.util
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def load_tool(name):
    """``tools/<name>.py`` as a module (the tools are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f'_tool_{name}', PROJECT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_dirs(work_dir):
    """The run folders (``YYYYMMDD_HHMMSS``) in a work dir, oldest first; other entries such as
    the runs' ``index.html`` are left out."""
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        return []
    return sorted(p for p in work_dir.iterdir() if p.is_dir() and re.fullmatch(r'\d{8}_\d{6}', p.name))


def only_run(work_dir):
    runs = run_dirs(work_dir)
    assert len(runs) == 1, f'expected one run in {work_dir}, found {[p.name for p in runs]}'
    return runs[0]
