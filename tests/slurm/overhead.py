"""What a task costs more as a Slurm job than as a local worker process, on this machine's cluster.

The same one-task inference run (SmolLM2, one C-Eval question, one generated token) goes through
LocalRunner and SlurmRunner in turn, ``--repeats`` times each; the overhead per task is the
difference of the median wall times. On a busy machine that difference drowns in the noise of the
task itself, so the launch alone is measured too: a Python process that does nothing, started
directly and through ``srun`` (what SlurmRunner adds around a task). Run after
tests/slurm/setup_slurm.sh:

    python tests/slurm/overhead.py --repeats 3
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults.helpers import write_config  # noqa: E402

from evalkit.cli import main  # noqa: E402
from evalkit.utils.paths import smollm2_gguf  # noqa: E402

RUNNERS = {'LocalRunner': "dict(type='LocalRunner')",
           'SlurmRunner': "dict(type='SlurmRunner', partition={partition!r}, retry=0)"}


def one_run(folder, runner, data_root):
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, smollm2_gguf(), name=f'{runner}.py', questions=1, max_out_len=1,
                          infer_runner=RUNNERS[runner].format(partition=ARGS.partition))
    start = time.perf_counter()
    code = main([str(config), '-w', str(Path(folder, 'out', runner)), '-m', 'infer', '--data-root', data_root])
    elapsed = time.perf_counter() - start
    if code != 0:
        sys.exit(f'{runner} run failed (exit {code})')
    return elapsed


def launch_only(partition, repeats):
    """Median seconds of ``python -c pass`` started directly and through srun."""
    direct, slurm = [], []
    for _ in range(repeats):
        for argv, into in (([sys.executable, '-c', 'pass'], direct),
                           (['srun', f'--partition={partition}', '--nodes=1', '--ntasks=1', sys.executable, '-c', 'pass'],
                            slurm)):
            start = time.perf_counter()
            subprocess.run(argv, check=True)
            into.append(time.perf_counter() - start)
    return statistics.median(direct), statistics.median(slurm)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--partition', default='debug')
    parser.add_argument('--data-root', default=os.environ.get('EVALKIT_DATA_ROOT')
                        or str(Path(__file__).resolve().parents[3] / 'shared' / 'data'))
    ARGS = parser.parse_args()
    times = {name: [] for name in RUNNERS}
    with tempfile.TemporaryDirectory() as folder:
        for k in range(ARGS.repeats):
            for name in RUNNERS:  # interleaved, so that a busy spell of the machine hits both
                times[name].append(one_run(Path(folder, str(k)), name, ARGS.data_root))
    for name, values in times.items():
        print(f'{name:12s} ' + ' '.join(f'{v:6.2f}' for v in values) + f'   median {statistics.median(values):6.2f} s')
    overhead = statistics.median(times['SlurmRunner']) - statistics.median(times['LocalRunner'])
    print(f'Slurm overhead per task: {overhead:+.2f} s (median of {ARGS.repeats})')
    direct, slurm = launch_only(ARGS.partition, 5 * ARGS.repeats)
    print(f'launch alone: direct {direct:.3f} s, srun {slurm:.3f} s: {slurm - direct:+.3f} s per task '
          f'(median of {5 * ARGS.repeats})')
