"""Fixtures of the fault tests: a tiny random model (fast) on one C-Eval subject, and the
predictions of an uninterrupted run that every interrupted run must end with."""
import pytest
from faults.helpers import TINY, only_run, predictions, write_config

from evalkit.cli import main


@pytest.fixture(scope='session')
def tiny_config(tiny_model_dir, tmp_path_factory):
    return write_config(tmp_path_factory.mktemp('faults-config'), tiny_model_dir, **TINY)


@pytest.fixture(scope='session')
def reference_run(tiny_config, data_root, tmp_path_factory):
    """The run folder of an uninterrupted run of ``tiny_config`` (inference only)."""
    work = tmp_path_factory.mktemp('faults-reference')
    assert main([str(tiny_config), '-w', str(work), '--data-root', str(data_root), '-m', 'infer']) == 0
    return only_run(work)


@pytest.fixture(scope='session')
def reference(reference_run):
    """The predictions every interrupted run of ``tiny_config`` must end with."""
    return predictions(reference_run)
