"""The Slurm runners on a real (single-node) Slurm cluster: the C-Eval run of the local runner
gives the same predictions through SlurmRunner and SlurmSequentialRunner; a killed job is tried
again; Ctrl-C cancels the run's jobs. tests/slurm/setup_slurm.sh sets the cluster up (.ci/run
calls it)."""
import shutil
import signal
import subprocess

import pytest
from faults.helpers import (DATASET, MODEL, PROJECT, command, error_lines, only_run, predictions, processes_with,
                            run_cli, task_processes, wait_for, write_config)

from evalkit.cli import main

needs_slurm = pytest.mark.skipif(shutil.which('sinfo') is None,
                                 reason='Slurm is not installed: tests/slurm/setup_slurm.sh sets up a '
                                        'single-node cluster (needs root)')

# SmolLM2 on four questions, two batches: long enough to stop a job between them.
SMALL = dict(questions=4, batch_size=2, max_out_len=8)


@pytest.fixture(scope='module')
def partition():
    """The cluster's default partition; a cluster that does not answer fails the test."""
    out = subprocess.run(['sinfo', '-h', '-o', '%P %a'], capture_output=True, text=True, timeout=30)
    defaults = [line.split()[0].rstrip('*') for line in out.stdout.splitlines() if '*' in line.split()[0]]
    if out.returncode != 0 or not defaults:
        pytest.fail(f'Slurm does not answer ({out.stderr.strip()}): run tests/slurm/setup_slurm.sh')
    return defaults[0]


@pytest.fixture(scope='module')
def local_predictions(smollm2, data_root, tmp_path_factory):
    """The local runner's predictions (worker process, as the Slurm jobs run it)."""
    folder = tmp_path_factory.mktemp('slurm-local')
    config = write_config(folder, smollm2, **SMALL)
    done = run_cli(config, folder / 'out', '-m', 'infer', data_root=data_root)
    assert done.returncode == 0, done.stderr[-3000:]
    return predictions(only_run(folder / 'out'))


def _recent_jobs():
    """`scontrol show jobs` one line per job: the running and recently finished ones."""
    return subprocess.run(['scontrol', '-o', 'show', 'jobs'], capture_output=True, text=True).stdout.splitlines()


def _queued(prefix):
    out = subprocess.run(['squeue', '-h', '-o', '%j'], capture_output=True, text=True).stdout.split()
    return [name for name in out if name.startswith(prefix)]


@needs_slurm
def test_slurm_runner_from_config_gives_the_local_predictions(smollm2, data_root, tmp_path, partition,
                                                              local_predictions):
    runner = f"dict(type='SlurmRunner', partition={partition!r}, retry=0)"
    config = write_config(tmp_path, smollm2, infer_runner=runner, num_gpus=1, **SMALL)
    done = run_cli(config, tmp_path / 'out', data_root=data_root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f'infer: 1 task(s) as Slurm jobs on partition {partition}' in done.stderr
    job = done.stderr.split('infer: Slurm job ')[1].split()[0]
    line = [j for j in _recent_jobs() if f'JobName={job} ' in j]
    assert len(line) == 1 and 'JobState=COMPLETED' in line[0] and 'TresPerNode=gres:gpu:1' in line[0], line
    run = only_run(tmp_path / 'out')
    assert predictions(run) == local_predictions
    assert (run / 'results' / MODEL / f'{DATASET}.json').exists()


@needs_slurm
def test_sequential_runner_from_the_cli_tries_a_killed_job_again(smollm2, data_root, tmp_path, partition,
                                                                  local_predictions):
    config = write_config(tmp_path, smollm2, **SMALL)
    work = tmp_path / 'out'
    proc = subprocess.Popen(command(config, work, '--slurm', '-p', partition, '-q', 'normal', '--retry', '1',
                                    '-m', 'infer', data_root=data_root),
                            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert wait_for(lambda: list(work.glob(f'*/predictions/*/tmp_{DATASET}.json'))), 'no batch was saved'
    workers = task_processes(work)
    assert len(workers) == 1
    subprocess.run(['kill', '-9', str(workers[0])], check=True)  # the job's task dies mid-way
    out = proc.communicate(timeout=600)[0]
    assert proc.returncode == 0, out[-3000:]
    assert f'{MODEL}/{DATASET} failed (' in out and 'trying again (retry 1 of 1)' in out
    job = out.split('infer: Slurm job ')[1].split()[0]
    assert f'infer: Slurm job {job}-r1' in out
    assert predictions(only_run(work)) == local_predictions


@needs_slurm
def test_interrupt_cancels_the_runs_jobs(smollm2, data_root, tmp_path, partition):
    # six batches of longer answers: the job is still running well after its first saved batch
    config = write_config(tmp_path, smollm2, **dict(SMALL, questions=12, max_out_len=32))
    work = tmp_path / 'out'
    proc = subprocess.Popen(command(config, work, '--slurm', '-p', partition, data_root=data_root),
                            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert wait_for(lambda: list(work.glob(f'*/predictions/*/tmp_{DATASET}.json'))), 'no batch was saved'
    jobs = _queued('evalkit-')
    assert len(jobs) == 1
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130
    assert error_lines(out) == ['interrupted: finished work is kept; resume with -r']
    assert f'cancelled Slurm job(s) {jobs[0]}' in out
    assert wait_for(lambda: not _queued(jobs[0]), timeout=30), 'the job is still in the queue'
    assert wait_for(lambda: not processes_with(str(work)), timeout=30), 'a task outlived its cancelled job'


def test_partition_without_a_slurm_runner_is_refused(tmp_path, smollm2, caplog):
    config = write_config(tmp_path, smollm2, **SMALL)
    assert main([str(config), '-w', str(tmp_path / 'out'), '-p', 'gpu']) == 2
    assert ('--partition is for a Slurm run: add --slurm, or name a SlurmRunner in the config '
            '(infer=dict(runner=dict(type=SlurmRunner, ...)))') in caplog.text
