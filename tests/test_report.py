"""Report pages, run comparison, notifications and the whole-run progress line, on real runs:
SmolLM2 on two C-Eval subjects (gen) and one in ppl mode, five questions each, and a tiny random
model in two prompt styles on the same questions. The pages are opened in a real headless
Chromium; notifications go to a real HTTP server on loopback."""
import json
import logging
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from project import load_tool

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # CPU threads that do not spin on a shared machine

from evalkit.cli import main  # noqa: E402
from evalkit.report.data import Run  # noqa: E402
from evalkit.utils.progress import RunProgress  # noqa: E402
from headless_chromium import Browser, chromium_binary  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
GROUP = 'ceval-two-subjects'
GEN = ['ceval-college_programming', 'ceval-logic']
PPL = 'ceval-logic-ppl'

# Five questions per subject, no in-context examples (short prompts); college_programming's
# questions hold C++ code ('#include<iostream.h>', '<<'), which the page must show as text.
DATASETS_CONFIG = '''
from evalkit.datasets.ceval import ceval_dataset_cfgs


def _few(cfgs, suffix=''):
    for cfg in cfgs:
        cfg['abbr'] += suffix
        cfg['reader_cfg']['test_range'] = '[0:5]'
    return cfgs


gen_datasets = _few(ceval_dataset_cfgs(mode='gen', shots=0, subjects=['college_programming', 'logic']))
ppl_datasets = _few(ceval_dataset_cfgs(mode='ppl', shots=0, subjects=['logic'], annotations={annotations!r}),
                    '-ppl')
summarizer = dict(summary_groups=[dict(name='ceval-two-subjects', subsets=[d['abbr'] for d in gen_datasets])])
'''
# The ppl dataset is also scored on contamination subsets, from an annotation file in the form
# tools/contamination.py writes.
SUBSET_LABELS = ['clean', 'clean', 'input contaminated', 'clean', 'input-and-label contaminated']


def write_config(folder, extra=''):
    annotations = folder / 'annotations.json'
    annotations.write_text(json.dumps({'datasets': {'ceval-logic': {'samples': [
        {'index': i, 'label': label} for i, label in enumerate(SUBSET_LABELS)]}}}))
    config = folder / 'report_run.py'
    config.write_text(DATASETS_CONFIG.format(annotations=str(annotations)) + extra)
    return config

TINY_MODELS = '''
_common = dict(path={path!r}, max_seq_len=2048, max_out_len=1, batch_size=8, run_cfg=dict(num_gpus=0))
models = [dict(type='HuggingFacewithChatTemplate', abbr='tiny-chat', **_common),
          dict(type='HuggingFaceBaseModel', abbr='tiny-base', **_common)]
'''


# ------------------------------------------------------------------ fixtures

class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        self.server.received.append((self.path, self.headers['Content-Type'], json.loads(body)))
        status = 500 if self.path == '/broken' else 200
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.end_headers()
        self.wfile.write(b'{"code": 0}')

    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def hook():
    """A webhook on loopback that keeps what it is sent (answers 500 on /broken)."""
    server = ThreadingHTTPServer(('127.0.0.1', 0), _Hook)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def closed_port_url():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    return f'http://127.0.0.1:{port}/hook'  # nothing listens there any more


@pytest.fixture(scope='module')
def log_lines():
    """What evalkit logs during this module's runs."""
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())
    handler = Keep()
    logger = logging.getLogger('evalkit')
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def _run_dir(work):
    runs = [p for p in Path(work).iterdir() if p.is_dir()]
    assert len(runs) == 1
    return runs[0]


@pytest.fixture(scope='module')
def smollm2_run(tmp_path_factory, smollm2, data_root, hook, log_lines):
    folder = tmp_path_factory.mktemp('report')
    config = write_config(folder)
    work = folder / 'outputs'
    code = main([str(config), '--hf-path', smollm2, '--max-out-len', '8', '--data-root', str(data_root),
                 '-w', str(work), '--debug', '--notify-url', f'http://127.0.0.1:{hook.server_port}/run'])
    assert code == 0
    return _run_dir(work)


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory, tiny_model_dir, data_root, log_lines):
    """Two models in one run, through worker processes (the runner's pool path)."""
    folder = tmp_path_factory.mktemp('tiny')
    config = write_config(folder, TINY_MODELS.format(path=str(tiny_model_dir)))
    work = folder / 'outputs'
    assert main([str(config), '--data-root', str(data_root), '-w', str(work)]) == 0
    return _run_dir(work)


@pytest.fixture(scope='module')
def browser():
    if not chromium_binary():
        pytest.skip('chromium not installed: run tests/setup_chromium.sh')
    b = Browser()
    yield b
    b.close()


def _results(run, model, dataset):
    return json.loads((run / 'results' / model / f'{dataset}.json').read_text())


def _model(run):
    return Run(run).models[0]


def _open(browser, path, fragment=''):
    since = len(browser.events)
    browser.open(Path(path).resolve().as_uri() + fragment)
    return since


def _errors_since(browser, since):
    errors = []
    saved, browser.events = browser.events, browser.events[since:]
    try:
        errors = browser.errors()
    finally:
        browser.events = saved
    return errors


# ------------------------------------------------------------------ the report page

def test_report_loads_without_errors_and_shows_the_scores(smollm2_run, browser, tmp_path):
    report = smollm2_run / 'summary' / 'report.html'
    assert report.is_file()
    since = _open(browser, report)
    assert _errors_since(browser, since) == []
    # Self-contained: the page itself is the only thing loaded.
    requested = browser.requested_urls()[since:]
    assert [u for u in requested if not u.startswith(('file:', 'data:'))] == []
    model = _model(smollm2_run)
    cells = browser.evaluate('''[...document.querySelectorAll("table.summary tbody tr:not(.part)")].map(
        r => [...r.cells].map(c => c.textContent))''')
    shown = {row[0]: row[4] for row in cells}
    for dataset in GEN + [PPL]:
        result = _results(smollm2_run, model, dataset)
        assert shown[dataset] == f'{result["accuracy"]:.2f} ± {result["accuracy_stderr"]:.2f}'
    group = [_results(smollm2_run, model, d)['accuracy'] for d in GEN]
    assert shown[GROUP].startswith(f'{sum(group) / len(group):.2f} ± ')
    # Charts are matplotlib's SVG: the group averages, the group's subjects, the ungrouped dataset,
    # the contamination subsets.
    assert browser.evaluate('document.querySelectorAll("figure.chart svg").length') == 4
    assert browser.evaluate('document.querySelector("figure.chart svg").innerHTML.includes("matplotlib")') or \
        'Matplotlib' in report.read_text()
    shot = browser.screenshot(tmp_path / 'report.png')
    assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and shot.stat().st_size > 20_000


def test_contamination_subsets_are_shown_beside_the_whole(smollm2_run, browser):
    _open(browser, smollm2_run / 'summary' / 'report.html')
    result = _results(smollm2_run, _model(smollm2_run), PPL)
    section = browser.evaluate('''(() => { const h = [...document.querySelectorAll("h2")].find(
        e => e.textContent === "Contamination subsets"); let t = h.nextElementSibling;
        while (t.tagName !== "TABLE") t = t.nextElementSibling;
        return [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent)); })()''')
    shown = {metric: score for _, metric, score in section}
    assert shown['accuracy (all samples)'] == f'{result["accuracy"]:.2f} ± {result["accuracy_stderr"]:.2f}'
    for subset, count in (('clean', 3), ('input contaminated', 1), ('input-and-label contaminated', 1)):
        assert result[f'num_samples - {subset}'] == count
        assert shown[f'accuracy - {subset} (n={count})'].startswith(f'{result[f"accuracy - {subset}"]:.2f}')
    # The wrong samples say which subset they are in.
    browser.go_to_fragment(f'errors/{PPL}')
    labels = browser.evaluate('[...document.querySelectorAll("#errors tr.sample")].map(r => r.cells[4].textContent)')
    assert labels == [SUBSET_LABELS[i] for i, d in enumerate(result['details']) if not d['correct']]


def test_tables_sort_by_a_clicked_column(smollm2_run, browser):
    _open(browser, smollm2_run / 'summary' / 'report.html')
    # The summary table (dataset, version, metric, mode, the model's score), by the score, twice.
    read = '''[...document.querySelectorAll("table.summary tbody tr")].map(
        r => [r.cells[0].textContent, parseFloat(r.cells[4].getAttribute("data-sort"))])'''
    header = 'document.querySelectorAll("table.summary thead th")[4]'
    before = browser.evaluate(read)
    browser.evaluate(f'{header}.click()')
    ascending = browser.evaluate(read)
    browser.evaluate(f'{header}.click()')
    descending = browser.evaluate(read)
    scores = [score for _, score in before]
    assert [s for _, s in ascending] == sorted(scores) and [s for _, s in descending] == sorted(scores, reverse=True)
    assert sorted(ascending) == sorted(before)  # rows move whole
    assert browser.evaluate(f'{header}.getAttribute("aria-sort")') == 'descending'


def test_error_view_lists_the_wrong_samples_as_text(smollm2_run, browser):
    model = _model(smollm2_run)
    since = _open(browser, smollm2_run / 'summary' / 'report.html')
    for dataset in GEN + [PPL]:
        details = _results(smollm2_run, model, dataset)['details']
        browser.go_to_fragment(f'errors/{dataset}')
        assert browser.evaluate('document.getElementById("main").hidden') is True
        shown = browser.evaluate('''[...document.querySelectorAll("#errors tr.sample")].map(
            r => [Number(r.dataset.index), r.cells[1].textContent, r.cells[2].textContent])''')
        wrong = [[i, d['gold'], d['pred']] for i, d in enumerate(details) if not d['correct']]
        assert shown == wrong
        count = browser.evaluate('document.querySelector("#errors p.count").textContent')
        assert count == f'{len(wrong)} of {len(details)} wrong'
    # The C++ in a prompt stays text: no element is made of '<iostream.h>'.
    browser.go_to_fragment('errors/ceval-college_programming')
    prompts = browser.evaluate('[...document.querySelectorAll("#errors pre")].map(p => p.textContent).join("\\n")')
    predictions = json.loads((smollm2_run / 'predictions' / model / 'ceval-college_programming.json').read_text())
    if not _results(smollm2_run, model, 'ceval-college_programming')['details'][2]['correct']:
        assert '#include<iostream.h>' in prompts
    assert all('#include<iostream.h>' in p['origin_prompt'][-1]['content'] for k, p in predictions.items() if k == '2')
    assert browser.evaluate('document.querySelectorAll("#errors iostream\\\\.h").length') == 0
    # The perplexity view shows each option's score.
    browser.go_to_fragment(f'errors/{PPL}')
    browser.evaluate('document.querySelectorAll("#errors details").forEach(d => d.open = true)')
    options = browser.evaluate('document.querySelectorAll("#errors details table tr").length')
    wrong_ppl = sum(not d['correct'] for d in _results(smollm2_run, model, PPL)['details'])
    assert options == 5 * wrong_ppl  # a heading and four options per sample
    browser.go_to_fragment('')
    assert browser.evaluate('document.getElementById("main").hidden') is False
    assert _errors_since(browser, since) == []


def test_index_lists_the_runs_and_links_their_reports(smollm2_run, browser):
    index = smollm2_run.parent / 'index.html'
    since = _open(browser, index)
    assert _errors_since(browser, since) == []
    links = browser.evaluate('[...document.querySelectorAll("tbody a")].map(a => a.href)')
    assert links == [(smollm2_run / 'summary' / 'report.html').resolve().as_uri()]
    row = browser.evaluate('document.querySelector("tbody tr").textContent')
    group = [_results(smollm2_run, _model(smollm2_run), d)['accuracy'] for d in GEN]
    assert f'{GROUP} {sum(group) / len(group):.2f} ± ' in row and '3: ' in row


# ------------------------------------------------------------------ notifications and -m viz

def test_the_run_posted_its_summary_to_the_hook(smollm2_run, hook):
    path, content_type, body = next(r for r in hook.received if r[0] == '/run')
    assert content_type.startswith('application/json')
    assert body['status'] == 'finished' and body['exit_code'] == 0 and body['run'] == smollm2_run.name
    model = _model(smollm2_run)
    assert body['models'] == [model] and body['datasets'] == 3
    assert body['headline'][model].startswith(f'{GROUP} ')
    assert Path(body['report']) == (smollm2_run / 'summary' / 'report.html').resolve()


def test_viz_rewrites_the_report_and_a_hook_that_is_down_does_not_fail_it(smollm2_run, smollm2, data_root,
                                                                           hook, log_lines, tmp_path):
    report = smollm2_run / 'summary' / 'report.html'
    report.unlink()
    config = write_config(tmp_path)
    args = [str(config), '--hf-path', smollm2, '--data-root', str(data_root), '-w', str(smollm2_run.parent),
            '-m', 'viz', '-r', smollm2_run.name]
    assert main(args + ['--notify-url', closed_port_url()]) == 0
    assert report.is_file()
    assert any(line.startswith('notification to 127.0.0.1:') and 'not sent' in line for line in log_lines)
    # A hook that answers with an error: one warning, the run still ends well.
    assert main(args + ['--notify-url', f'http://127.0.0.1:{hook.server_port}/broken']) == 0
    assert any('HTTP 500' in line for line in log_lines)
    # The Lark/Feishu bot format.
    assert main(args + ['--notify-url', f'http://127.0.0.1:{hook.server_port}/lark', '--notify-format', 'lark']) == 0
    _, _, body = next(r for r in hook.received if r[0] == '/lark')
    assert body['msg_type'] == 'text'
    assert body['content']['text'].startswith(f'evalkit run {smollm2_run.name} finished (exit 0)')
    assert f'{_model(smollm2_run)}: {GROUP} ' in body['content']['text']


def test_a_run_that_fails_is_notified(hook, tmp_path):
    code = main(['--datasets', 'no_such_dataset_config', '--hf-path', str(tmp_path), '-w', str(tmp_path / 'o'),
                 '--notify-url', f'http://127.0.0.1:{hook.server_port}/failed'])
    assert code == 2
    _, _, body = next(r for r in hook.received if r[0] == '/failed')
    assert body['status'] == 'error' and body['exit_code'] == 2 and body['event'] == 'run_failed'
    assert body['error']


# ------------------------------------------------------------------ comparison

def _compare(argv):
    """tools/compare_runs.py, run in this process."""
    return load_tool('compare_runs').main(argv)


def _correct(run, model, dataset):
    return [d['correct'] for d in _results(run, model, dataset)['details']]


def test_compare_two_runs(smollm2_run, tiny_run, tmp_path, capsys, browser):
    html = tmp_path / 'compare.html'
    smol = _model(smollm2_run)
    assert _compare([str(smollm2_run), str(tiny_run), '--models', smol, 'tiny-chat', '--html', str(html),
                    '--show-flips', '1000']) == 0
    out = capsys.readouterr().out
    expected_flips = []
    for dataset in GEN + [PPL]:
        a = _results(smollm2_run, smol, dataset)
        b = _results(tiny_run, 'tiny-chat', dataset)
        delta = b['accuracy'] - a['accuracy']
        line = next(x for x in out.splitlines() if x.startswith(dataset + ' '))
        assert f'{delta:+.2f}' in line
        se = (a['accuracy_stderr'] ** 2 + b['accuracy_stderr'] ** 2) ** 0.5
        assert line.rstrip().endswith('*') == (abs(delta) > 1.96 * se)
        expected_flips += [(dataset, i) for i, (x, y) in enumerate(zip(_correct(smollm2_run, smol, dataset),
                                                                        _correct(tiny_run, 'tiny-chat', dataset)))
                           if x != y]
    assert f'{len(expected_flips)} sample(s) flipped' in out
    for dataset, i in expected_flips:
        assert f'  {dataset} #{i}: ' in out
    assert any(x.startswith(GROUP + ' [group]') for x in out.splitlines())
    since = _open(browser, html)
    assert _errors_since(browser, since) == []
    assert browser.evaluate('document.querySelectorAll("figure.chart svg").length') == 1


def test_compare_two_models_of_one_run(tiny_run, capsys):
    assert _compare([str(tiny_run), '--models', 'tiny-chat', 'tiny-base']) == 0
    out = capsys.readouterr().out
    assert out.startswith(f'A = {tiny_run.name}/tiny-chat   B = {tiny_run.name}/tiny-base')
    assert _compare([str(tiny_run)]) == 2
    assert 'name the two models to compare with --models A B' in capsys.readouterr().err


# ------------------------------------------------------------------ the whole-run progress line

def test_runs_log_a_whole_run_progress_line(smollm2_run, tiny_run, log_lines):
    progress = [line for line in log_lines if line.startswith('run progress: ')]
    # Both runs: three datasets per model inferred, then scored; the last line of each says all done.
    assert 'run progress: 6/6 datasets done (eval 3/3)' in ' '.join(progress)
    assert any(line.startswith('run progress: 12/12 datasets done (eval 6/6)') for line in progress)
    assert any('left in infer' in line for line in progress)


def test_progress_estimates_the_time_left_from_the_pace_of_the_stage():
    now = [100.0]
    progress = RunProgress(clock=lambda: now[0])
    progress.begin('infer', 4)
    assert progress.line().endswith('estimating the time left in infer')
    now[0] = 130.0
    progress.update('infer', 1)
    assert progress.line() == 'run progress: 1/4 datasets done (infer 1/4), 30s elapsed, about 1m30s left in infer'
    now[0] = 250.0
    progress.update('infer', 4)
    progress.begin('eval', 4)
    assert progress.line() == ('run progress: 4/8 datasets done (eval 0/4), 2m30s elapsed, '
                               'estimating the time left in eval')


# ------------------------------------------------------------------ what other summaries add

NEEDLE_RUN = '''
from evalkit.datasets.needlebench import needlebench_dataset_cfgs
datasets = needlebench_dataset_cfgs(grid="tiny", lengths=[224, 320], depths=[0, 100], kinds=["single"],
                                    languages=["en"], max_out_len=4)
models = [dict(type='HuggingFacewithChatTemplate', abbr='tiny', path={path!r}, max_seq_len=2048, batch_size=4,
               run_cfg=dict(num_gpus=0))]
'''

SUBJECTIVE_RUN = '''
from evalkit.datasets.subjective import subjective_dataset_cfgs
_tiny = dict(type='HuggingFacewithChatTemplate', path={path!r}, max_seq_len=2048, max_out_len=4, batch_size=4,
             run_cfg=dict(num_gpus=0))
models = [dict(_tiny, abbr='tiny')]
judge_models = [dict(_tiny, abbr='tiny-judge')]
seed_datasets = subjective_dataset_cfgs({questions!r}, abbr='seed')
'''


def test_needle_heatmap_is_in_the_report(tiny_model_dir, data_root, tmp_path, browser):
    if not (Path(data_root) / 'needle_haystack' / 'PaulGrahamEssays').is_dir():
        pytest.skip('needle_haystack not under the data root')
    config = tmp_path / 'needle.py'
    config.write_text(NEEDLE_RUN.format(path=str(tiny_model_dir)))
    assert main([str(config), '--data-root', str(data_root), '-w', str(tmp_path / 'o'), '--debug']) == 0
    run = _run_dir(tmp_path / 'o')
    [png] = (run / 'summary').glob('needlebench_*_tiny.png')
    since = _open(browser, run / 'summary' / 'report.html')
    assert _errors_since(browser, since) == []
    shown = browser.evaluate('''[...document.querySelectorAll("h2")].find(h => h.textContent === "Needle in a haystack")
        .parentNode.querySelector("img.figure").src''')
    import base64
    assert base64.b64decode(shown.split(',', 1)[1]) == png.read_bytes()


def test_subjective_judgements_are_in_the_report(tiny_model_dir, data_root, tmp_path, browser):
    questions = tmp_path / 'questions.json'
    questions.write_text(json.dumps([{'question': 'Name the largest planet.', 'capability': 'knowledge'},
                                     {'question': 'Suggest a name for a cat.', 'capability': 'chat'}]))
    config = tmp_path / 'subjective.py'
    config.write_text(SUBJECTIVE_RUN.format(path=str(tiny_model_dir), questions=str(questions)))
    assert main([str(config), '--data-root', str(data_root), '-w', str(tmp_path / 'o'), '--debug']) == 0
    run = _run_dir(tmp_path / 'o')
    since = _open(browser, run / 'summary' / 'report.html')
    assert _errors_since(browser, since) == []
    rows = browser.evaluate('''[...document.querySelectorAll("h3 ~ table tbody tr")].map(
        r => [...r.cells].map(c => c.textContent))''')
    import csv
    with open(next((run / 'summary').glob('summary_*.csv')), encoding='utf-8') as f:
        records = list(csv.DictReader(f))
    for record in records:
        row = next(r for r in rows if r[3] == record['capability'])
        assert record['value'] in row and row[:3] == [record['model'], record['opponent'], record['judge']]
