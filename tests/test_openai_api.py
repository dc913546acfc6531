"""The OpenAI-compatible API model: end to end through the CLI against llama-cpp-python's real
server with SmolLM2, and retries, pacing and errors against a scripted loopback server."""
import io
import json
import logging
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from api_server import Reply, free_port
from evalkit.cli import main
from evalkit.models import OpenAIChatModel, OpenAISDK
from evalkit.openicl.postprocessors import first_capital_postprocess
from evalkit.utils.errors import EvalkitError
from project import run_dirs

ROWS = 3
CONFIG = """
from evalkit.datasets.demo import demo_dataset_cfgs
from evalkit.models import OpenAISDK

datasets = [dict(d, reader_cfg=dict(d['reader_cfg'], test_range='[0:{rows}]'))
            for d in demo_dataset_cfgs('gen') if d['abbr'] == 'demo-en-gen']
models = [dict(type=OpenAISDK, abbr='smollm2-api', path={model!r}, openai_api_base={base!r},
               key={key!r}, key_env={key_env!r}, max_out_len=16, batch_size=2, max_concurrency=2)]
"""


@contextmanager
def captured_log():
    """Everything evalkit logs meanwhile, as text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger('evalkit')
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def write_config(folder, base, model, key='ENV', key_env=None):
    path = Path(folder) / 'eval_api.py'
    path.write_text(CONFIG.format(model=model, base=base, key=key, key_env=key_env, rows=ROWS))
    return path


def run_cli(config, work_dir, data_root):
    with captured_log() as log:
        code = main([str(config), '--data-root', str(data_root), '-w', str(work_dir), '--debug'])
    runs = run_dirs(work_dir)
    return code, log.getvalue(), (runs[0] if len(runs) == 1 else None)


def predictions(run):
    return json.loads((run / 'predictions' / 'smollm2-api' / 'demo-en-gen.json').read_text())


def files_holding(folder, secret):
    return [p for p in Path(folder).rglob('*') if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.fixture(scope='module')
def cli_runs(llama_server, data_root, tmp_path_factory):
    """Two CLI runs of the first demo questions (2-shot, in batches of 2): one against the
    server, then one against a dead port that can only succeed from the cache."""
    cache = tmp_path_factory.mktemp('api-cache')
    with pytest.MonkeyPatch.context() as env:
        env.setenv('EVALKIT_CACHE_DIR', str(cache))
        served_before = llama_server.requests_served()
        first_dir = tmp_path_factory.mktemp('first')
        config = write_config(first_dir, llama_server.base_url, llama_server.model,
                              key_env=llama_server.key_env)
        first = run_cli(config, first_dir / 'outputs', data_root)
        served = llama_server.requests_served() - served_before
        second_dir = tmp_path_factory.mktemp('second')
        config = write_config(second_dir, f'http://127.0.0.1:{free_port()}/v1', llama_server.model,
                              key_env=llama_server.key_env)
        second = run_cli(config, second_dir / 'outputs', data_root)
        served_after = llama_server.requests_served() - served_before
    return dict(first=first, second=second, served=served, served_after=served_after, cache=cache,
                dirs=(first_dir, second_dir))


def test_cli_generates_through_the_server(cli_runs, llama_server):
    code, log, run = cli_runs['first']
    assert code == 0, log
    assert cli_runs['served'] == ROWS
    preds = predictions(run)
    assert len(preds) == ROWS
    first = preds['0']
    # The chat prompt a HF chat model gets: the 2 examples and the question as user/assistant turns.
    assert [m['role'] for m in first['origin_prompt']] == ['user', 'assistant', 'user', 'assistant', 'user']
    assert first['origin_prompt'][0]['content'].startswith('The following is a multiple-choice question.')
    assert 'What is 7 + 5?' in first['origin_prompt'][-1]['content']
    # The prediction is the server's own greedy answer to that request, passed on unchanged.
    body = {'model': llama_server.model, 'messages': first['origin_prompt'], 'max_tokens': 16,
            'temperature': 0.0}
    request = urllib.request.Request(llama_server.base_url + '/chat/completions',
                                     data=json.dumps(body).encode(),
                                     headers={'Content-Type': 'application/json',
                                              'Authorization': f'Bearer {llama_server.key}'})
    with urllib.request.urlopen(request, timeout=60) as response:
        direct = json.loads(response.read())['choices'][0]['message']['content']
    assert first['prediction'] == direct
    assert direct.strip()
    result = json.loads((run / 'results' / 'smollm2-api' / 'demo-en-gen.json').read_text())
    right = sum(first_capital_postprocess(p['prediction']) == p['gold'] for p in preds.values())
    assert result['accuracy'] == pytest.approx(100 * right / ROWS)
    assert 'answers so far: 2 (0 from the cache, 2 requested, 0 retries)' in log  # the first batch


def test_cache_serves_a_rerun_with_no_server(cli_runs):
    code, log, run = cli_runs['second']
    assert code == 0, log
    assert cli_runs['served_after'] == cli_runs['served']  # nothing reached the server
    assert predictions(run) == predictions(cli_runs['first'][2])
    assert 'answers so far: 2 (2 from the cache, 0 requested, 0 retries)' in log
    entries = list((cli_runs['cache'] / 'api').rglob('*.json'))
    assert len(entries) == ROWS
    stored = {json.loads(p.read_text())['answer'] for p in entries}
    assert stored == {p['prediction'] for p in predictions(run).values()}


def test_the_key_is_sent_but_never_written(cli_runs, llama_server):
    key = llama_server.key
    # The server refuses requests without it, so the first run's success shows it was sent.
    assert cli_runs['first'][0] == 0
    for code, log, run in (cli_runs['first'], cli_runs['second']):
        assert key not in log
        saved = next((run / 'configs').glob('*.py')).read_text()
        assert llama_server.key_env in saved
    for folder in (*cli_runs['dirs'], cli_runs['cache']):
        assert files_holding(folder, key) == []


def test_wrong_key_fails_at_once_with_one_line(llama_server, monkeypatch, tmp_path):
    monkeypatch.setenv('EVALKIT_WRONG_KEY', 'sk-wrong-key-0123456789')
    model = OpenAISDK(path=llama_server.model, openai_api_base=llama_server.base_url,
                      key_env='EVALKIT_WRONG_KEY', retry=3, cache=False)
    start = time.monotonic()
    with pytest.raises(EvalkitError) as err:
        model.generate(['Hello'], 8)
    message = str(err.value)
    assert time.monotonic() - start < 5  # not retried
    assert '\n' not in message
    assert message.startswith(llama_server.base_url + '/chat/completions: HTTP 401')
    assert '$EVALKIT_WRONG_KEY' in message
    assert 'sk-wrong-key' not in message
    no_key = OpenAISDK(path=llama_server.model, openai_api_base=llama_server.base_url, key='EMPTY',
                       cache=False)
    with pytest.raises(EvalkitError, match=r'HTTP 401: .*\(no API key was sent: name the variable'):
        no_key.generate(['Hello'], 8)


def test_literal_key_in_a_config_is_refused_before_anything_is_written(tmp_path, data_root):
    secret = 'sk-literal-secret-abcdef123456'
    config = write_config(tmp_path, 'http://127.0.0.1:9/v1', 'm', key=secret)
    code, log, _ = run_cli(config, tmp_path / 'outputs', data_root)
    assert code == 2
    assert "literal key=" in log and "key_env='MY_API_KEY'" in log
    assert secret not in log
    assert not (tmp_path / 'outputs').exists()


def test_named_key_variable_must_be_set(monkeypatch):
    monkeypatch.delenv('EVALKIT_UNSET_KEY', raising=False)
    with pytest.raises(EvalkitError, match=r'\$EVALKIT_UNSET_KEY is not set'):
        OpenAIChatModel(path='m', openai_api_base='http://127.0.0.1:9/v1', key_env='EVALKIT_UNSET_KEY')


# ------------------------------------------------------------------ the scripted server
def model_for(server, **kwargs):
    kwargs.setdefault('cache', False)
    return OpenAIChatModel(path='test-model', openai_api_base=server.base_url, key='EMPTY', **kwargs)


def test_messages_pass_through_unchanged(scripted_server):
    dialogue = [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi'},
                {'role': 'assistant', 'content': 'Hello!'}, {'role': 'user', 'content': 'Bye'}]
    model = model_for(scripted_server, generation_kwargs=dict(top_p=0.5), stop_words=['XX'])
    assert model.generate([dialogue, 'plain text'], 7, ['\n\n']) == ['echo: Bye', 'echo: plain text']
    bodies = sorted((s.body for s in scripted_server.seen), key=lambda b: len(b['messages']))
    assert bodies[1] == {'model': 'test-model', 'messages': dialogue, 'max_tokens': 7, 'temperature': 0.0,
                         'stop': ['\n\n', 'XX'], 'top_p': 0.5}
    assert bodies[0]['messages'] == [{'role': 'user', 'content': 'plain text'}]
    assert all('Authorization' not in s.headers for s in scripted_server.seen)  # key='EMPTY'


def test_answers_are_cut_at_stop_words(scripted_server):
    scripted_server.script = [Reply(body={'choices': [{'message': {'content': 'A. yes\nQuestion: next'}}]})]
    assert model_for(scripted_server).generate(['q'], 8, ['Question:']) == ['A. yes\n']


def test_requests_run_in_parallel_up_to_max_concurrency(scripted_server):
    scripted_server.script = [Reply(delay=0.5) for _ in range(8)]
    model = model_for(scripted_server, max_concurrency=4, batch_size=8)
    prompts = [f'q{i}' for i in range(8)]
    start = time.monotonic()
    assert model.generate(prompts, 4) == [f'echo: {p}' for p in prompts]
    assert scripted_server.most_in_flight == 4
    assert time.monotonic() - start < 8 * 0.5


def test_query_per_second_spaces_requests_across_threads(scripted_server):
    model = model_for(scripted_server, max_concurrency=4, query_per_second=5)
    begin = time.monotonic()  # the server runs in this process: one clock for both
    model.generate([f'q{i}' for i in range(6)], 4)
    starts = sorted(s.start for s in scripted_server.seen)
    assert len(starts) == 6
    # Request k may start 0.2 * k s after the first at the earliest (later on a busy machine).
    assert all(start - begin >= 0.2 * k - 0.005 for k, start in enumerate(starts))


def test_429_and_5xx_are_retried_honouring_retry_after(scripted_server):
    scripted_server.script = [Reply(429, {'error': {'message': 'Rate limit reached'}}, {'Retry-After': '1'}),
                              Reply(503, b'<html>busy</html>')]
    model = model_for(scripted_server, retry=2, retry_wait=0.05)
    with captured_log() as log:
        assert model.generate(['q'], 4) == ['echo: q']
    starts = [s.start for s in scripted_server.seen]
    assert len(starts) == 3
    assert starts[1] - starts[0] >= 1.0  # Retry-After: 1
    assert starts[2] - starts[1] < 0.5  # backoff from retry_wait=0.05
    assert 'HTTP 429: Rate limit reached; retry 1 of 2' in log.getvalue()
    assert 'HTTP 503: <html>busy</html>; retry 2 of 2' in log.getvalue()


def test_a_timeout_is_retried(scripted_server):
    scripted_server.script = [Reply(delay=2.0)]
    model = model_for(scripted_server, retry=1, retry_wait=0.01, timeout=0.5)
    start = time.monotonic()
    assert model.generate(['q'], 4) == ['echo: q']
    assert time.monotonic() - start < 1.9  # the second attempt, not the slow first one
    assert len(scripted_server.seen) == 2


def test_spent_retries_name_the_endpoint_and_the_failure(scripted_server):
    scripted_server.script = [Reply(500, {'error': {'message': 'internal boom'}}) for _ in range(3)]
    model = model_for(scripted_server, retry=2, retry_wait=0.01)
    with pytest.raises(EvalkitError) as err:
        model.generate(['q'], 4)
    assert str(err.value) == (f'{scripted_server.base_url}/chat/completions: HTTP 500: internal boom '
                              '(gave up after 3 attempts; raise retry= if the server is only busy)')
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_dead_port_names_the_endpoint():
    url = f'http://127.0.0.1:{free_port()}/v1'
    model = OpenAIChatModel(path='m', openai_api_base=url, key='EMPTY', retry=1, retry_wait=0.01, cache=False)
    with pytest.raises(EvalkitError) as err:
        model.generate(['q'], 4)
    assert str(err.value) == (f'{url}/chat/completions: cannot connect: Connection refused '
                              '(gave up after 2 attempts; is the server running at that address?)')


def test_unknown_model_fails_at_once(scripted_server):
    # What OpenAI and vLLM answer for a model name they do not serve.
    scripted_server.script = [Reply(404, {'error': {'message': 'The model `nope` does not exist.',
                                                    'type': 'NotFoundError', 'code': 404}})]
    model = OpenAIChatModel(path='nope', openai_api_base=scripted_server.base_url, key='EMPTY', retry=3,
                            cache=False)
    with pytest.raises(EvalkitError) as err:
        model.generate(['q'], 4)
    assert str(err.value) == (f"{scripted_server.base_url}/chat/completions: HTTP 404: The model `nope` "
                              "does not exist. (check the model name path='nope' and openai_api_base)")
    assert len(scripted_server.seen) == 1


def test_cache_keys_on_the_request_and_keeps_only_successes(scripted_server, tmp_path, monkeypatch):
    monkeypatch.setenv('EVALKIT_CACHE_DIR', str(tmp_path))
    scripted_server.script = [Reply(400, {'error': {'message': 'bad request'}})]
    model = model_for(scripted_server, cache=True)
    with pytest.raises(EvalkitError, match='HTTP 400: bad request'):
        model.generate(['q'], 4)
    assert model.generate(['q'], 4) == ['echo: q']  # the failure was not cached
    assert model.generate(['q'], 4) == ['echo: q']
    assert len(scripted_server.seen) == 2
    model_for(scripted_server, cache=True, temperature=0.7).generate(['q'], 4)
    model.generate(['q'], 5)
    model.generate(['q'], 4, ['\n'])
    assert len(scripted_server.seen) == 5  # another setting is another request
    assert len(list((tmp_path / 'api').rglob('*.json'))) == 4
    model_for(scripted_server, cache=False).generate(['q'], 4)
    assert len(scripted_server.seen) == 6


def test_ppl_mode_is_refused_with_a_hint():
    model = OpenAIChatModel(path='m', openai_api_base='http://127.0.0.1:9/v1', key='EMPTY')
    with pytest.raises(EvalkitError, match='cannot score options .ppl mode.: use a gen dataset config'):
        model.choice_nll([['a', 'b']])


def test_token_len_estimate():
    url = 'http://127.0.0.1:9/v1/chat/completions'
    model = OpenAIChatModel(path='m', openai_api_base=url, key='EMPTY')
    assert model.url == url  # a full address stays as it is
    assert model.token_len('abcd' * 10) == 10 + 4
    assert model.token_len([{'role': 'user', 'content': '以下是中国'}, {'role': 'assistant', 'content': 'A'}]) \
        == (5 + 4) + (1 + 4)


def test_shipped_config_builds_and_answers(llama_server, tmp_path, monkeypatch):
    from evalkit.config import load_named
    from evalkit.registry import build
    monkeypatch.setenv('EVALKIT_CACHE_DIR', str(tmp_path))
    cfg, = load_named('models', ['smollm2_api'])
    OpenAIChatModel.check_config(cfg)
    assert cfg['path'] == llama_server.model  # the name the config's comment starts the server with
    # The test server wants a key and runs on another port.
    model = build(dict(cfg, openai_api_base=llama_server.base_url, key='ENV', key_env=llama_server.key_env))
    answer, = model.generate([[{'role': 'user', 'content': 'What is the capital of France?'}]], 8)
    assert answer.strip()


def test_token_len_with_a_tokenizer_counts_like_the_hf_chat_model(tiny_model_dir):
    from evalkit.models import HuggingFacewithChatTemplate
    prompt = [{'role': 'user', 'content': 'What is 7 + 5?\nA. 12\nB. 11'},
              {'role': 'assistant', 'content': 'A'},
              {'role': 'user', 'content': '以下是中国关于计算机网络考试的单项选择题'}]
    api = OpenAIChatModel(path='m', openai_api_base='http://127.0.0.1:9/v1', key='EMPTY',
                          tokenizer_path=str(tiny_model_dir))
    hf = HuggingFacewithChatTemplate(path=str(tiny_model_dir))
    assert api.token_len(prompt) == hf.token_len(prompt)
    assert api.token_len(prompt) != OpenAIChatModel(path='m', openai_api_base='http://127.0.0.1:9/v1',
                                                     key='EMPTY').token_len(prompt)


def test_an_opencompass_api_config_runs_as_it_is(scripted_server, monkeypatch):
    from evalkit.registry import build
    # As OpenCompass's configs/models/openai/gpt_4o_2024_05_13.py writes it.
    cfg = dict(abbr='GPT-4o-2024-05-13', type='opencompass.models.OpenAI', path='gpt-4o-2024-05-13',
               key='ENV',
               meta_template=dict(round=[dict(role='HUMAN', api_role='HUMAN'),
                                         dict(role='BOT', api_role='BOT', generate=True)]),
               query_per_second=1, max_out_len=2048, max_seq_len=4096, batch_size=8)
    monkeypatch.setenv('OPENAI_BASE_URL', scripted_server.base_url)
    monkeypatch.setenv('OPENAI_API_KEY', 'sk-from-the-environment')
    OpenAIChatModel.check_config(cfg)
    model = build(dict(cfg, cache=False))
    assert isinstance(model, OpenAIChatModel)
    prompt = model.prepare([{'role': 'HUMAN', 'prompt': 'Q?'}, {'role': 'BOT', 'prompt': ''}])
    assert model.generate([prompt], model.max_out_len) == ['echo: Q?']
    seen, = scripted_server.seen
    assert seen.headers['Authorization'] == 'Bearer sk-from-the-environment'
    assert seen.body['max_tokens'] == 2048 and seen.body['model'] == 'gpt-4o-2024-05-13'
