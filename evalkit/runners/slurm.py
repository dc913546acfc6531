"""Runs each task as a Slurm job (``srun``): the same ``python -m evalkit.tasks.<stage> TASK.json``
as the local runner, on a node the cluster picks.

The work dir and the Python environment must be on a filesystem every node sees; see
docs/slurm.md. ``SlurmRunner`` submits up to ``max_num_workers`` jobs at once;
``SlurmSequentialRunner`` submits the next job only once the previous one has left the queue,
so that at most one of the run's jobs waits there. On interrupt, the run's jobs are cancelled.
"""
import os
import secrets
import shlex
import shutil
import subprocess
import threading
import time

from ..utils.errors import EvalkitError
from ..utils.logging import get_logger
from .base import BaseRunner, task_command

logger = get_logger()


def _cluster_command(name):
    path = shutil.which(name)
    if path is None:
        raise EvalkitError(f'the Slurm runner needs {name!r}, which is not on PATH: run on a '
                           'Slurm login node, or drop --slurm to run on this machine')
    return path


class SlurmRunner(BaseRunner):
    """``partition`` (srun -p), ``quotatype`` (passed as the QOS, as is ``qos``), GPUs per task
    from the model's ``run_cfg.num_gpus`` (--gres=gpu:N), ``extra_command`` (more srun
    arguments), ``retry`` (tries again a job that failed)."""

    default_retry = 2

    def __init__(self, partition=None, quotatype=None, qos=None, extra_command=None,
                 max_num_workers=None, debug=False, retry=None, poll_interval=0.5, **kwargs):
        super().__init__(max_num_workers=max_num_workers, debug=debug, retry=retry, **kwargs)
        self.partition = partition
        self.qos = qos or quotatype
        if isinstance(extra_command, str):
            extra_command = shlex.split(extra_command)
        self.extra_command = list(extra_command or [])
        self.poll_interval = poll_interval
        self._run_token = None

    def default_workers(self, tasks):
        return 32  # the cluster's scheduler, not this machine, bounds what runs at once

    def prepare(self, stage, tasks, workers):
        self._srun = _cluster_command('srun')
        # Names this launch's jobs: cancelling them never touches another run's.
        self._run_token = secrets.token_hex(3)
        where = f'partition {self.partition}' if self.partition else 'the default partition'
        return f'{stage}: {len(tasks)} task(s) as Slurm jobs on {where}, up to {workers} at once'

    def job_name(self, stage, index, attempt):
        return f'evalkit-{self._run_token}-{stage}{index}' + (f'-r{attempt}' if attempt else '')

    def srun_args(self, task, job):
        args = [self._srun, f'--job-name={job}', '--nodes=1', '--ntasks=1', '--unbuffered']
        if self.partition:
            args.append(f'--partition={self.partition}')
        if self.qos:
            args.append(f'--qos={self.qos}')
        num_gpus = (task['model'].get('run_cfg') or {}).get('num_gpus', 0)
        if num_gpus:
            args.append(f'--gres=gpu:{num_gpus}')
        return args + self.extra_command

    def run_attempt(self, task, index, stage, cfg_path, log, attempt):
        job = self.job_name(stage, index, attempt)
        argv = self.srun_args(task, job) + task_command(stage, cfg_path)
        env = dict(os.environ, TOKENIZERS_PARALLELISM='false')
        env.pop('CUDA_VISIBLE_DEVICES', None)  # the node's allocation sets it
        logger.info('%s: Slurm job %s', stage, job)
        return self.spawn_and_wait(argv, log, attempt, env=env, job=job)

    def stop_jobs(self, jobs):
        scancel = shutil.which('scancel')
        if scancel is None:
            return
        for job in jobs:
            subprocess.run([scancel, f'--name={job}'], capture_output=True, timeout=30)
        logger.info('cancelled Slurm job(s) %s', ', '.join(jobs))


class SlurmSequentialRunner(SlurmRunner):
    """Like ``SlurmRunner``, but the next job is submitted only when the previous one has been
    given a node: at most one of the run's jobs waits in the queue, and up to
    ``max_num_workers`` run."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._one_in_queue = threading.Lock()

    def submit(self, argv, out, env, job):
        with self._one_in_queue:
            proc = super().submit(argv, out, env, job)
            if proc is not None:
                self._wait_until_started(proc, job)
            return proc

    def _wait_until_started(self, proc, job):
        """Returns once ``job`` has a node, has ended, or the run is stopping."""
        squeue = shutil.which('squeue')
        while squeue and not self._stopping.is_set() and proc.poll() is None:
            try:
                state = subprocess.run([squeue, '-h', f'--name={job}', '-o', '%T'], capture_output=True,
                                       text=True, timeout=30).stdout.split()
            except (OSError, subprocess.SubprocessError):
                return
            if state and state[0] != 'PENDING':
                return
            time.sleep(self.poll_interval)
