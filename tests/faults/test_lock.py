"""Two runs on one work dir: the second refuses, naming the first; a lock left by a dead process is
taken over, by exactly one of the runs that find it."""
import json
import signal
import socket
import subprocess
import sys
import time

from faults.helpers import PROJECT, predictions

from evalkit.cli import main

HOLD = '''
import sys, time
from evalkit.utils.lock import WorkDirLock
WorkDirLock(sys.argv[1]).acquire()
print('held', flush=True)
time.sleep(120)
'''

# Each process waits for the same moment, then tries to take the lock; prints 'won' or the error.
RACE = '''
import sys, time
from evalkit.utils.errors import EvalkitError
from evalkit.utils.lock import WorkDirLock
time.sleep(max(0, float(sys.argv[2]) - time.time()))
try:
    WorkDirLock(sys.argv[1]).acquire()
    print('won', flush=True)
    time.sleep(5)  # held while the others try
except EvalkitError as exc:
    print(exc, flush=True)
'''


def _dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_second_run_refuses_then_takes_over_a_stale_lock(tiny_config, data_root, tmp_path, caplog, reference):
    run = tmp_path / '20260101_000000'
    holder = subprocess.Popen([sys.executable, '-c', HOLD, str(run)], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        owner = json.loads((run / '.evalkit.lock').read_text())
        assert owner['pid'] == holder.pid and owner['host'] == socket.gethostname()
        args = [str(tiny_config), '-w', str(tmp_path), '-r', run.name, '--data-root', str(data_root),
                '-m', 'infer', '--debug']
        assert main(args) == 2
        refusal = [r.getMessage() for r in caplog.records if r.levelname == 'ERROR']
        assert refusal == [f'{run} is in use by another evalkit run (pid {holder.pid} on {socket.gethostname()}, '
                           f'since {owner["since"]}): wait for it to end or give another -w; if that run is gone, '
                           f'delete {run / ".evalkit.lock"}']
        assert not (run / 'predictions').exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The holder died without removing its lock: the next run takes it over and finishes.
    assert (run / '.evalkit.lock').exists()
    caplog.clear()
    assert main(args) == 0
    assert f'taking over the lock of pid {holder.pid}, which is no longer running' in caplog.text
    assert predictions(run) == reference
    assert not (run / '.evalkit.lock').exists()


def test_a_stale_lock_is_taken_by_exactly_one_of_several_runs(tmp_path):
    tmp_path.joinpath('.evalkit.lock').write_text(json.dumps({'pid': _dead_pid(), 'host': socket.gethostname()}))
    start = time.time() + 2.5
    racers = [subprocess.Popen([sys.executable, '-c', RACE, str(tmp_path), str(start)], cwd=PROJECT,
                               stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [r.communicate(timeout=60)[0].strip() for r in racers]
    assert sorted(outputs)[-1] == 'won' and outputs.count('won') == 1, outputs
    assert all('is in use by another evalkit run' in o for o in outputs if o != 'won')


def test_a_lock_from_another_host_is_never_taken(tiny_config, tmp_path, caplog):
    tmp_path.joinpath('.evalkit.lock').write_text(json.dumps({'pid': 1, 'host': 'node-17', 'since': 'then'}))
    assert main([str(tiny_config), '-w', str(tmp_path.parent), '-r', tmp_path.name, '-m', 'infer']) == 2
    assert 'in use by another evalkit run (pid 1 on node-17, since then)' in caplog.text
    assert '(it ran on another host)' in caplog.text


def test_an_unreadable_lock_file_is_taken_over(tmp_path, caplog):
    from evalkit.utils.lock import WorkDirLock
    tmp_path.joinpath('.evalkit.lock').write_text('{"pid": 12')  # cut short by a crash mid-write
    lock = WorkDirLock(tmp_path).acquire()
    assert 'taking over an unreadable lock file' in caplog.text
    assert json.loads(tmp_path.joinpath('.evalkit.lock').read_text())['pid'] == lock.me['pid']
    lock.release()
    assert not tmp_path.joinpath('.evalkit.lock').exists()
