"""Faults in the middle of a run: each ends with one clear line, and ``-r`` then completes the run
with the predictions of an uninterrupted one. Real runs of run.py with a tiny random model."""
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from faults.helpers import (DATASET, MODEL, PROJECT, TINY, command, error_lines, only_run, partial_file,
                            predictions, processes_with, run_cli, task_processes, wait_for, write_config)

from evalkit.cli import main


def _start(config, work_dir, data_root, *flags):
    return subprocess.Popen(command(config, work_dir, *flags, data_root=data_root), cwd=PROJECT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _first_partial(work_dir):
    return wait_for(lambda: next(iter(Path(work_dir).glob(f'*/predictions/*/tmp_{DATASET}.json')), None))


def _resume_matches(config, work_dir, data_root, reference):
    """``-r`` completes the run, with the uninterrupted run's predictions and no partial file."""
    resumed = run_cli(config, work_dir, '-r', data_root=data_root)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    run = only_run(work_dir)
    assert predictions(run) == reference
    assert not partial_file(run).exists()
    return resumed


def _task_log(run):
    return run / 'logs' / 'infer' / MODEL / f'{DATASET}.out'


def test_worker_killed_mid_task(tiny_config, data_root, tmp_path, reference):
    proc = _start(tiny_config, tmp_path, data_root)
    partial = _first_partial(tmp_path)
    assert partial, 'the run never saved a batch'
    workers = task_processes(tmp_path)
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGKILL)
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 1
    assert f'{MODEL}/{DATASET} failed (killed by SIGKILL): see {_task_log(only_run(tmp_path))}' in error_lines(out)
    assert 'Traceback' not in out
    saved = json.loads(partial.read_text())['rows']
    assert 0 < len(saved) < len(reference)
    _resume_matches(tiny_config, tmp_path, data_root, reference)


def test_task_that_raises(tiny_model_dir, data_root, tmp_path, reference):
    """A dataset loader (a user's plugin) that raises: the task fails with the error in one line;
    once the cause is gone, -r finishes."""
    marker = tmp_path / 'storage-down'
    marker.touch()
    (tmp_path / 'flaky_loader.py').write_text(f'''
import os
from evalkit.datasets.ceval import CEvalDataset

class FlakyCEval(CEvalDataset):
    @staticmethod
    def load(**kwargs):
        if os.path.exists({str(marker)!r}):
            raise RuntimeError('storage unavailable')
        return CEvalDataset.load(**kwargs)
''')
    config = write_config(tmp_path, tiny_model_dir, **TINY)
    config.write_text('from flaky_loader import FlakyCEval\n' + config.read_text()
                      + 'for _d in ceval_datasets:\n    _d["type"] = FlakyCEval\n')
    work = tmp_path / 'out'
    first = run_cli(config, work, data_root=data_root)
    assert first.returncode == 1
    log = _task_log(only_run(work))
    assert (f'{MODEL}/{DATASET} failed (exit 1: {DATASET}: RuntimeError: storage unavailable '
            f'(traceback in the task log)): see {log}') in error_lines(first.stderr)
    assert 'Traceback' not in first.stderr and 'Traceback' in log.read_text()
    marker.unlink()
    _resume_matches(config, work, data_root, reference)


def test_model_that_fails_to_load(tiny_model_dir, data_root, tmp_path, reference):
    model = tmp_path / 'model'
    shutil.copytree(tiny_model_dir, model)
    weights = model / 'model.safetensors'
    weights.write_bytes(weights.read_bytes()[:1000])  # a copy cut short
    config = write_config(tmp_path, model, **TINY)
    work = tmp_path / 'out'
    first = run_cli(config, work, data_root=data_root)
    assert first.returncode == 1
    message = [e for e in error_lines(first.stderr) if 'failed (exit 1' in e]
    assert len(message) == 1 and f'{MODEL}: the model failed to load (' in message[0]
    assert 'check its path and settings' in message[0] and 'Traceback' not in first.stderr
    shutil.copy(tiny_model_dir / 'model.safetensors', weights)
    _resume_matches(config, work, data_root, reference)


@pytest.fixture
def small_disk(tmp_path):
    """A 40 KiB tmpfs: too small for a run's predictions. Yields (folder, grow), grow() makes it
    large enough."""
    disk = tmp_path / 'disk'
    disk.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=40k', 'tmpfs', str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f'cannot mount a tmpfs here ({mounted.stderr.strip()}); needs root')

    def grow():
        subprocess.run(['mount', '-o', 'remount,size=16m', str(disk)], check=True)
    try:
        yield disk, grow
    finally:
        subprocess.run(['umount', '-l', str(disk)], capture_output=True)


def test_disk_full(tiny_config, data_root, small_disk, reference):
    disk, grow = small_disk
    first = run_cli(tiny_config, disk, data_root=data_root)
    assert first.returncode != 0
    errors = error_lines(first.stderr)
    assert any('No space left on device' in e and 'resume with -r' in e for e in errors), errors
    assert 'Traceback' not in first.stderr
    run = only_run(disk)
    assert not (run / 'predictions' / MODEL / f'{DATASET}.json').exists()
    grow()
    _resume_matches(tiny_config, disk, data_root, reference)


@pytest.mark.parametrize('damage', ['truncated', 'garbled'])
def test_corrupt_partial_predictions(tiny_config, data_root, tmp_path, reference, damage):
    """A partial predictions file cut short or overwritten with junk is named, and the dataset made
    again from the start."""
    run = tmp_path / '20260101_000000'
    partial = partial_file(run)
    partial.parent.mkdir(parents=True)
    rows = {k: reference[k] for k in ('0', '1', '2')}
    text = json.dumps({'fingerprint': 'x', 'rows': rows}, ensure_ascii=False)
    partial.write_text(text[:len(text) // 2] if damage == 'truncated' else '\x00\x17garbage]]')
    # In this process (--debug): the same task code as a worker's, without a Python start.
    assert main([str(tiny_config), '-w', str(tmp_path), '-r', run.name, '--data-root', str(data_root),
                 '-m', 'infer', '--debug']) == 0
    assert predictions(run) == reference and not partial.exists()
    log = _task_log(run).read_text()
    assert f'{DATASET}: the unfinished predictions in {partial} are unreadable (' in log
    assert 'starting this dataset over' in log


def test_ctrl_c_in_the_middle(tiny_config, data_root, tmp_path, reference):
    proc = _start(tiny_config, tmp_path, data_root)
    assert _first_partial(tmp_path), 'the run never saved a batch'
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130
    assert error_lines(out) == ['interrupted: finished work is kept; resume with -r']
    assert processes_with(str(tmp_path)) == [], 'a worker outlived the interrupted run'
    run = only_run(tmp_path)
    assert not (run / '.evalkit.lock').exists()
    _resume_matches(tiny_config, tmp_path, data_root, reference)


def test_run_killed_outright_takes_its_worker_along(tiny_config, data_root, tmp_path):
    """SIGKILL leaves the run no chance to stop its workers: they end with it all the same, so that
    none keeps writing into the work dir that -r resumes."""
    proc = _start(tiny_config, tmp_path, data_root)
    assert _first_partial(tmp_path), 'the run never saved a batch'
    assert len(task_processes(tmp_path)) == 1
    proc.kill()
    proc.communicate(timeout=60)
    assert wait_for(lambda: not task_processes(tmp_path), timeout=15), 'the worker outlived its run'
    time.sleep(5)  # a worker left running would have finished the dataset by now
    assert not (only_run(tmp_path) / 'predictions' / MODEL / f'{DATASET}.json').exists()
