"""Tests for tools/prepare_data.py and tools/list_configs.py, run in-process through main(argv)."""
import os
import zipfile
from pathlib import Path

import pytest

from evalkit.datasets.ceval_subjects import CEVAL_SPLITS, CEVAL_SUBJECTS
from project import load_tool



prepare_data = load_tool('prepare_data')
list_configs = load_tool('list_configs')

CEVAL_SRC = (Path(os.environ.get('EVALKIT_DATA_ROOT') or Path(__file__).resolve().parents[2] / 'shared' / 'data')
             / 'ceval' / 'formal_ceval')
EXPECTED = sorted(f'{split}/{subject}_{split}.csv'
                  for split in CEVAL_SPLITS for subject in CEVAL_SUBJECTS)


@pytest.fixture
def ceval_src():
    if not CEVAL_SRC.is_dir():
        pytest.skip(f'C-Eval data not found at {CEVAL_SRC}')
    return CEVAL_SRC


def _make_zip(path, src, top='ceval-exam', skip=()):
    """A zip laid out like the official one: <top>/{dev,val,test}/<subject>_<split>.csv."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for rel in EXPECTED:
            if rel not in skip:
                zf.write(src / rel, f'{top}/{rel}' if top else rel)
    return path


def _tree(root):
    return sorted(p.relative_to(root).as_posix() for p in Path(root).rglob('*') if p.is_file())


def _assert_identical(dest, src):
    assert _tree(dest) == EXPECTED
    for rel in EXPECTED:
        assert (dest / rel).read_bytes() == (src / rel).read_bytes(), rel


# ---------------------------------------------------------------------------------- prepare_data

def test_prepare_ceval_from_zip(tmp_path, ceval_src, capsys):
    zpath = _make_zip(tmp_path / 'ceval-exam.zip', ceval_src)
    root = tmp_path / 'root'
    rc = prepare_data.main(['ceval', '--source', str(zpath), '--data-root', str(root)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    dest = root / 'ceval' / 'formal_ceval'
    _assert_identical(dest, ceval_src)
    assert '156 files' in out.out and str(dest) in out.out
    assert len(out.out.strip().splitlines()) == 1
    # No temporary folders are left beside the destination.
    assert sorted(p.name for p in (root / 'ceval').iterdir()) == ['formal_ceval']


def test_prepare_ceval_zip_without_top_folder_replaces_existing(tmp_path, ceval_src, capsys):
    zpath = _make_zip(tmp_path / 'flat.zip', ceval_src, top=None)
    dest = tmp_path / 'root' / 'ceval' / 'formal_ceval'
    (dest / 'dev').mkdir(parents=True)
    (dest / 'dev' / 'stale.csv').write_text('old')
    rc = prepare_data.main(['ceval', '--source', str(zpath), '--data-root', str(tmp_path / 'root')])
    assert rc == 0, capsys.readouterr().err
    _assert_identical(dest, ceval_src)
    assert sorted(p.name for p in dest.parent.iterdir()) == ['formal_ceval']


def test_prepare_ceval_from_folder(tmp_path, ceval_src, capsys):
    root = tmp_path / 'root'
    rc = prepare_data.main(['ceval', '--source', str(ceval_src), '--data-root', str(root)])
    assert rc == 0, capsys.readouterr().err
    _assert_identical(root / 'ceval' / 'formal_ceval', ceval_src)


def test_prepare_ceval_ignores_same_named_files_elsewhere(tmp_path, ceval_src, capsys):
    # A data root also holding MMLU has dev/college_chemistry_dev.csv twice; the folder with the
    # complete C-Eval set wins. Hidden leftovers of an interrupted run never count.
    zpath = _make_zip(tmp_path / 'mixed.zip', ceval_src, top='data/ceval/formal_ceval')
    with zipfile.ZipFile(zpath, 'a') as zf:
        zf.writestr('data/mmlu/dev/college_chemistry_dev.csv', 'not,c-eval\n')
        zf.writestr('data/ceval/.formal_ceval.tmp-x/dev/marxism_dev.csv', 'junk\n')
    root = tmp_path / 'root'
    rc = prepare_data.main(['ceval', '--source', str(zpath), '--data-root', str(root)])
    assert rc == 0, capsys.readouterr().err
    _assert_identical(root / 'ceval' / 'formal_ceval', ceval_src)


def test_prepare_ceval_two_complete_copies_is_an_error(tmp_path, ceval_src, capsys):
    zpath = _make_zip(tmp_path / 'twice.zip', ceval_src, top='a')
    with zipfile.ZipFile(zpath, 'a') as zf:
        for rel in EXPECTED:
            zf.writestr(f'b/{rel}', 'id,question,A,B,C,D\n')
    rc = prepare_data.main(['ceval', '--source', str(zpath), '--data-root', str(tmp_path / 'r')])
    err = capsys.readouterr().err
    assert rc == 2 and '2 complete copies' in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / 'r').exists()


def test_prepare_ceval_rejects_files_that_are_not_ceval_csvs(tmp_path, capsys):
    zpath = tmp_path / 'bad.zip'
    with zipfile.ZipFile(zpath, 'w') as zf:
        for rel in EXPECTED:
            zf.writestr(rel, 'hello\n')
    rc = prepare_data.main(['ceval', '--source', str(zpath), '--data-root', str(tmp_path / 'r')])
    err = capsys.readouterr().err
    assert rc == 2 and 'does not look like a C-Eval CSV' in err
    assert not (tmp_path / 'r').exists()


def test_prepare_ceval_data_root_from_env(tmp_path, ceval_src, capsys, monkeypatch):
    monkeypatch.setenv('EVALKIT_DATA_ROOT', str(tmp_path / 'envroot'))
    rc = prepare_data.main(['ceval', '--source', str(ceval_src)])
    assert rc == 0, capsys.readouterr().err
    assert _tree(tmp_path / 'envroot' / 'ceval' / 'formal_ceval') == EXPECTED


def test_prepare_ceval_missing_subject_fails_and_writes_nothing(tmp_path, ceval_src, capsys):
    missing = ['dev/marxism_dev.csv', 'val/marxism_val.csv', 'test/marxism_test.csv']
    zpath = _make_zip(tmp_path / 'partial.zip', ceval_src, skip=set(missing))
    root = tmp_path / 'root'
    rc = prepare_data.main(['ceval', '--source', str(zpath), '--data-root', str(root)])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1, err
    assert 'Traceback' not in err
    assert 'lacks 3 of 156' in err
    assert 'marxism_dev.csv' in err
    assert not root.exists()


def test_prepare_ceval_missing_subject_keeps_existing_destination(tmp_path, ceval_src, capsys):
    root = tmp_path / 'root'
    assert prepare_data.main(['ceval', '--source', str(ceval_src), '--data-root', str(root)]) == 0
    zpath = _make_zip(tmp_path / 'partial.zip', ceval_src, skip={'val/physician_val.csv'})
    rc = prepare_data.main(['ceval', '--source', str(zpath), '--data-root', str(root)])
    assert rc == 2
    assert 'val/physician_val.csv' in capsys.readouterr().err
    _assert_identical(root / 'ceval' / 'formal_ceval', ceval_src)


@pytest.mark.parametrize('kind', ['missing', 'not_a_zip', 'empty_folder'])
def test_prepare_ceval_bad_source_fails_cleanly(tmp_path, capsys, kind):
    if kind == 'missing':
        source = tmp_path / 'nope.zip'
        expect = 'does not exist'
    elif kind == 'not_a_zip':
        source = tmp_path / 'ceval-exam.zip'
        source.write_text('this is not a zip')
        expect = 'not a valid zip'
    else:
        source = tmp_path / 'empty'
        source.mkdir()
        expect = 'lacks 156 of 156'
    root = tmp_path / 'root'
    rc = prepare_data.main(['ceval', '--source', str(source), '--data-root', str(root)])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1, err
    assert expect in err and 'Traceback' not in err
    assert not root.exists()


@pytest.fixture
def no_proxy(monkeypatch):
    for var in ('http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY'):
        monkeypatch.delenv(var, raising=False)


def test_prepare_ceval_from_url(tmp_path, ceval_src, capsys, no_proxy):
    # A local HTTP server stands in for the official download; no network is needed.
    import functools
    import http.server
    import threading
    serve = tmp_path / 'serve'
    serve.mkdir()
    _make_zip(serve / 'ceval-exam.zip', ceval_src)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(serve))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f'http://127.0.0.1:{server.server_address[1]}'
        root = tmp_path / 'root'
        rc = prepare_data.main(['ceval', '--source', f'{base}/ceval-exam.zip',
                                '--data-root', str(root)])
        assert rc == 0, capsys.readouterr().err
        _assert_identical(root / 'ceval' / 'formal_ceval', ceval_src)
        rc = prepare_data.main(['ceval', '--source', f'{base}/missing.zip',
                                '--data-root', str(tmp_path / 'r2')])
        err = capsys.readouterr().err
        assert rc == 2 and 'HTTP 404' in err and 'Traceback' not in err
    finally:
        server.shutdown()
        server.server_close()


def test_prepare_download_failure_fails_cleanly(tmp_path, capsys, no_proxy):
    # Port 9 on localhost: connection refused at once, no network needed.
    rc = prepare_data.main(['ceval', '--source', 'http://127.0.0.1:9/ceval-exam.zip',
                            '--data-root', str(tmp_path / 'root')])
    err = capsys.readouterr().err
    assert rc == 2
    assert 'download of http://127.0.0.1:9/ceval-exam.zip failed' in err
    assert 'Traceback' not in err
    assert not (tmp_path / 'root').exists()


def test_prepare_help_and_usage(capsys):
    assert prepare_data.main(['--help']) == 0
    assert 'ceval' in capsys.readouterr().out
    assert prepare_data.main(['ceval', '--help']) == 0
    out = capsys.readouterr().out
    assert '--source' in out and '--data-root' in out
    assert prepare_data.main(['nosuchbench', '--source', 'x']) == 2
    assert prepare_data.main(['ceval']) == 2  # --source is required
    assert 'ceval' in prepare_data.PREPARERS


# ---------------------------------------------------------------------------------- list_configs

@pytest.fixture
def fake_configs(tmp_path):
    configs = tmp_path / 'configs'
    files = [
        'models/hf_llama/hf_llama2_7b.py',
        'models/hf_llama/hf_llama2_13b_chat.py',
        'models/qwen/hf_qwen_7b.py',
        'models/qwen/__init__.py',
        'models/_base_model.py',
        'datasets/ceval/ceval_gen.py',
        'datasets/ceval/ceval_ppl.py',
        'datasets/ceval/_ceval_common.py',
        'datasets/gsm8k/gsm8k_gen.py',
        'datasets/ceval/notes.txt',
        'summarizers/ceval_groups.py',
        'eval_llama_ceval.py',
    ]
    for rel in files:
        (configs / rel).parent.mkdir(parents=True, exist_ok=True)
        (configs / rel).write_text('# fake\n')
    return configs


def _table_rows(text):
    """(name, path) for each data row of the psql tables in ``text``."""
    rows = []
    for line in text.splitlines():
        if line.startswith('|') and not line.startswith('|-'):
            cells = [c.strip() for c in line.strip('|').split('|')]
            rows.append(tuple(cells))
    return rows


def test_list_configs_tables(fake_configs, capsys):
    rc = list_configs.main(['LLAMA', 'ceval', '--configs-dir', str(fake_configs)])
    out = capsys.readouterr().out
    assert rc == 0
    assert _table_rows(out) == [
        ('Model', 'Config Path'),
        ('hf_llama2_13b_chat', 'configs/models/hf_llama/hf_llama2_13b_chat.py'),
        ('hf_llama2_7b', 'configs/models/hf_llama/hf_llama2_7b.py'),
        # A file that defines no datasets has no mode, metric or samples to show.
        ('Dataset', 'Mode', 'Metric', 'Datasets', 'Samples', 'Config Path'),
        ('ceval_gen', '-', '-', '-', '-', 'configs/datasets/ceval/ceval_gen.py'),
        ('ceval_ppl', '-', '-', '-', '-', 'configs/datasets/ceval/ceval_ppl.py'),
        ('Summarizer', 'Config Path'),
        ('ceval_groups', 'configs/summarizers/ceval_groups.py'),
        ('Run config', 'Config Path'),
        ('eval_llama_ceval', 'configs/eval_llama_ceval.py'),
    ]
    assert out.lstrip().startswith('+--')  # psql borders
    assert '_ceval_common' not in out and '__init__' not in out


def test_list_configs_wildcards_and_one_section(fake_configs, capsys):
    assert list_configs.main(['*_gen', '--configs-dir', str(fake_configs)]) == 0
    out = capsys.readouterr().out
    assert 'Model' not in out
    assert [r[0] for r in _table_rows(out)] == ['Dataset', 'ceval_gen', 'gsm8k_gen']
    assert list_configs.main(['qwen', '--configs-dir', str(fake_configs)]) == 0
    out = capsys.readouterr().out
    assert 'Dataset' not in out
    assert _table_rows(out)[1] == ('hf_qwen_7b', 'configs/models/qwen/hf_qwen_7b.py')


def test_list_configs_no_match(fake_configs, capsys):
    rc = list_configs.main(['mistral', '--configs-dir', str(fake_configs)])
    out = capsys.readouterr().out
    assert rc == 1
    assert len(out.strip().splitlines()) == 1 and 'mistral' in out


def test_list_configs_missing_dir(tmp_path, capsys):
    assert list_configs.main(['x', '--configs-dir', str(tmp_path / 'none')]) == 2
    assert 'does not exist' in capsys.readouterr().err


def test_tools_report_errors_and_interrupts_in_one_line(capsys, tmp_path):
    from evalkit.utils.errors import EvalkitError, run_tool

    def missing_file():
        open(tmp_path / 'absent.jsonl')

    def interrupted():
        raise KeyboardInterrupt

    def bad_input():
        raise EvalkitError('--corpus names no file (give one or more files)')

    assert run_tool('tool', lambda: None) == 0
    assert run_tool('tool', bad_input) == 2
    assert capsys.readouterr().err == 'tool: error: --corpus names no file (give one or more files)\n'
    assert run_tool('tool', missing_file) == 2
    assert capsys.readouterr().err == f'tool: error: No such file or directory: {tmp_path / "absent.jsonl"}\n'
    assert run_tool('tool', interrupted, interrupted='nothing was changed') == 130
    assert capsys.readouterr().err == 'tool: interrupted; nothing was changed\n'
