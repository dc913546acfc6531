"""Small real runs for the fault and Slurm tests: SmolLM2 on a few questions of one C-Eval
subject, through run.py as users start it."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# Worker threads that sleep rather than spin while they wait: on a shared CPU, spinning threads of
# one process starve the others (the results are the same either way). Slurm jobs inherit it.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

PROJECT = Path(__file__).resolve().parents[2]
MODEL = 'smollm2'
SUBJECT = 'middle_school_geography'
DATASET = f'ceval-{SUBJECT}'

# The fault tests' settings for the tiny random model: enough batches (one question each), and
# answers long enough (it never ends one early), that a run is still going seconds after its
# first saved batch, when the tests stop it.
TINY = dict(questions=12, max_out_len=192, model_type='HuggingFaceBaseModel')


def write_config(folder, model_path, name='eval_tiny.py', questions=4, shots=0, max_out_len=4,
                 batch_size=1, infer_runner=None, header=None, num_gpus=0,
                 model_type='HuggingFacewithChatTemplate'):
    """A config file: a model (SmolLM2's GGUF file, or a model folder) on the first ``questions``
    of one C-Eval subject in gen mode. ``header``: another instruction line (a changed prompt);
    ``infer_runner``: a runner dict, as config source text."""
    path = Path(folder, name)
    lines = [
        'from evalkit.datasets.ceval import ceval_dataset_cfgs',
        f'ceval_datasets = ceval_dataset_cfgs(mode="gen", shots={shots}, subjects=[{SUBJECT!r}])',
        'for _d in ceval_datasets:',
        f'    _d["reader_cfg"] = dict(_d["reader_cfg"], test_range="[0:{questions}]")',
    ]
    if header is not None:
        # The instruction's first word 以下 replaced: another prompt, everything else the same.
        lines += ['import json as _json', 'from evalkit.registry import to_plain as _plain',
                  f'_d["infer_cfg"] = _json.loads(_json.dumps(_plain(_d["infer_cfg"]), ensure_ascii=False)'
                  f'.replace("以下", {header!r}))']
    lines.append(f'models = [dict(type={model_type!r}, abbr={MODEL!r}, path={str(model_path)!r}, max_seq_len=2048, '
                 f'max_out_len={max_out_len}, batch_size={batch_size}, run_cfg=dict(num_gpus={num_gpus}))]')
    if infer_runner:
        lines.append(f'infer = dict(runner={infer_runner})')
    path.write_text('\n'.join(lines) + '\n')
    return path


def run_cli(config, work_dir, *flags, data_root=None, timeout=600, **popen):
    """``python run.py CONFIG -w WORK_DIR FLAGS``; returns the CompletedProcess (text output)."""
    return subprocess.run(command(config, work_dir, *flags, data_root=data_root), cwd=PROJECT,
                          capture_output=True, text=True, timeout=timeout, **popen)


def command(config, work_dir, *flags, data_root=None):
    cmd = [sys.executable, str(PROJECT / 'run.py'), str(config), '-w', str(work_dir), *flags]
    return cmd + (['--data-root', str(data_root)] if data_root else [])


def only_run(work_dir):
    runs = [p for p in Path(work_dir).iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def predictions(run_dir, dataset=DATASET):
    return json.loads(Path(run_dir, 'predictions', MODEL, dataset + '.json').read_text())


def partial_file(run_dir, dataset=DATASET):
    return Path(run_dir, 'predictions', MODEL, f'tmp_{dataset}.json')


def wait_for(condition, timeout=300, interval=0.05):
    """Polls ``condition()`` until it returns something true; returns that, or None at timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(interval)
    return None


def processes_with(text):
    """Pids of live processes whose command line contains ``text``."""
    pids = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                cmdline = Path('/proc', entry, 'cmdline').read_bytes().replace(b'\0', b' ').decode()
                state = Path('/proc', entry, 'stat').read_text().rpartition(')')[2].split()[0]
            except OSError:
                continue
            if text in cmdline and state != 'Z':
                pids.append(int(entry))
    return pids


def task_processes(work_dir, stage='infer'):
    """Pids of the ``python -m evalkit.tasks.<stage>`` processes of a run under ``work_dir`` (not
    the srun that started one)."""
    found = []
    for pid in processes_with(str(work_dir)):
        try:
            argv = Path('/proc', str(pid), 'cmdline').read_bytes().split(b'\0')
        except OSError:
            continue
        if argv[1:3] == [b'-m', f'evalkit.tasks.{stage}'.encode()]:
            found.append(pid)
    return found


def error_lines(output):
    """The ERROR lines of a run's output (the messages a user reads)."""
    return [line.partition(' ERROR ')[2] for line in output.splitlines() if ' ERROR ' in line]
