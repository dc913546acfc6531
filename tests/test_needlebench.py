"""Needle in a haystack: prompts cut to exact token lengths by SmolLM2's tokenizer, needles at
their depth, scoring on real phrasings, and a small grid end to end through run.py (with the PNG)."""
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.datasets.needlebench import (_SNAP_WINDOW as SNAP_WINDOW, GRIDS, NeedleBenchDataset, needle_depths, needlebench_dataset_cfgs,
                                          read_haystack, read_needles)
from evalkit.openicl.evaluators.needle import NeedleEvaluator
from evalkit.summarizers.needle import DPI, figure_size
from evalkit.tasks.base import check_dataset
from evalkit.utils.errors import EvalkitError

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session')
def haystack_root(data_root):
    root = Path(data_root)
    if not (root / 'needle_haystack' / 'PaulGrahamEssays').is_dir():
        pytest.skip(f'needle_haystack not found under {root}')
    return root


@pytest.fixture(scope='session')
def token_len(smollm2):
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(os.path.dirname(smollm2), gguf_file=os.path.basename(smollm2))
    return lambda text: len(tokenizer(text, add_special_tokens=True)['input_ids'])


def _load(haystack_root, token_len, **kwargs):
    return list(NeedleBenchDataset.load(data_root=str(haystack_root), token_len=token_len, **kwargs))


def _document(prompt):
    """The haystack part of a prompt: between the instruction and the question."""
    return prompt.split('\n\n', 1)[1].rsplit('\n\n', 1)[0]


@pytest.mark.parametrize('language, kind', [('en', 'single'), ('zh', 'reasoning'), ('en', 'multi')])
def test_prompts_take_the_cell_length_and_hold_needles_at_their_depth(haystack_root, token_len, language, kind):
    rows = _load(haystack_root, token_len, language=language, kind=kind, lengths=[500, 1100],
                 depths=[0, 30, 70, 100], needle_count=3, max_seq_len=2048)
    assert [(r['length'], r['depth']) for r in rows] == [(n, d) for n in (500, 1100) for d in (0, 30, 70, 100)]
    entries = read_needles(language, 'reasoning' if kind == 'reasoning' else 'retrieval')
    chosen = entries[:3] if kind == 'multi' else entries[:1]
    sentences = [s for e in chosen for s in e['needles']]
    files = NeedleBenchDataset.haystack_files(language=language, data_root=str(haystack_root))
    corpus = ''.join(read_haystack(files, 'text', 100000).split())
    for row in rows:
        # Exactly the cell's length by the model's tokenizer; English is cut between words.
        assert token_len(row['prompt']) == row['tokens']
        assert row['length'] - (6 if language == 'en' else 1) <= row['tokens'] <= row['length']
        assert all(e['question'] in row['prompt'].rsplit('\n\n', 1)[1] for e in chosen)
        document = _document(row['prompt'])
        without, places = document, []
        for sentence in sentences:
            assert document.count(sentence) == 1
            places.append(without.index(sentence))  # its place in the haystack
            without = without.replace(sentence, '', 1)
        for place, depth in zip(places, needle_depths(row['depth'], len(sentences))):
            # At the start of the sentence that holds the depth: at most one sentence back.
            target = len(without) * depth / 100
            assert target - SNAP_WINDOW - 3 <= place <= target + 3, (depth, place, target)
            assert place == 0 or without[place - 1] in ' \n。！？；' or abs(place - target) <= 3
        # What is left is the start of the real corpus, read from the data root, cut between words.
        left = ''.join(without.split())
        assert left and corpus.startswith(left)
    assert [r['answer']['needles'][0]['keywords'] for r in rows[:1]] == [chosen[0]['keywords']]


@pytest.mark.parametrize('language', ['en', 'zh'])
def test_no_keyword_is_given_away_by_a_question_or_the_instruction(language):
    from evalkit.datasets.needlebench import PROMPTS
    from evalkit.openicl.evaluators.needle import keyword_found, normalize
    entries = read_needles(language, 'retrieval') + read_needles(language, 'reasoning')
    asked = normalize(' '.join(PROMPTS[language].values()) + ' '.join(e['question'] for e in entries))
    for entry in entries:
        assert not any(keyword_found(normalize(k), asked) for spellings in entry['keywords'] for k in spellings)
        # A retrieval needle holds its answer; the first fact of a reasoning pair does not.
        found = NeedleEvaluator().found(entry['needles'][0], dict(needles=[entry]))
        assert found == [entry['kind'] == 'retrieval'], entry['id']


def test_cells_longer_than_max_seq_len_are_skipped_and_the_loader_needs_the_tokenizer(haystack_root, token_len):
    rows = _load(haystack_root, token_len, language='en', kind='single', lengths=[300, 1000],
                 depths=[50], max_seq_len=1024, max_out_len=32)
    assert [r['length'] for r in rows] == [300]
    with pytest.raises(EvalkitError, match='tokens of the model'):
        NeedleBenchDataset.load(data_root=str(haystack_root), language='en', lengths=[300], depths=[50])


def test_user_corpus_and_missing_files(haystack_root, token_len, tmp_path):
    corpus = tmp_path / 'corpus.jsonl'
    lines = [json.dumps({'body': f'Record {i}: the tide tables of Port Averly were copied by hand. '
                                 'Nobody checked them twice.'}) for i in range(300)]
    corpus.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    rows = _load(haystack_root, token_len, language='en', kind='single', lengths=[300], depths=[50],
                 haystack=str(corpus), text_field='body', max_seq_len=2048)
    assert 'Port Averly' in rows[0]['prompt'] and 'Paul Graham' not in rows[0]['prompt']
    assert rows[0]['tokens'] <= 300
    missing = needlebench_dataset_cfgs(grid='4k', kinds=['single'], languages=['zh'])[0]
    with pytest.raises(EvalkitError, match='ChineseDomainModelingEval/zh_\\*.jsonl'):
        check_dataset(missing, str(tmp_path))


def test_scoring_tolerates_phrasing_but_not_wrong_facts():
    quince = dict(length=1000, depth=50, needles=[dict(answer='Roasted quince.', keywords=[['quince']])])
    osterlund = dict(length=1000, depth=0, needles=[dict(answer='On the ninth of October.',
                                                         keywords=[['october', 'oct'], ['ninth', '9', '9th']])])
    age = dict(length=2000, depth=50, needles=[dict(answer='61 years old.', keywords=[['61', 'sixty-one']])])
    spice = dict(length=2000, depth=0, needles=[dict(answer='Cardamom.', keywords=[['cardamom']])])
    zh = dict(length=2000, depth=100, needles=[dict(answer='十月九日。', keywords=[['十月九', '10月9']])])
    cases = [
        ("The secret ingredient in Marta Kowalczyk's harbour stew is roasted quince.", quince, 1),
        ('Quinces, roasted slowly.', quince, 1),
        ('It is a type of hard liquor, cigarettes, and crack.', quince, 0),
        ('The festival is held on October 9 every year.', osterlund, 1),
        ('On the 9th of Oct.', osterlund, 1),
        ('It is held in October.', osterlund, 0),
        ('Lena is sixty-one.', age, 1),
        ('Lena Varga is 610 years old.', age, 0),
        ('The soup uses cardamon.', spice, 1),
        ('The soup uses cinnamon.', spice, 0),
        ('柳溪村每年 10 月 9 日举办风筝节。', zh, 1),
        ('风筝节在十月举办。', zh, 0),
    ]
    result = NeedleEvaluator().score([c[0] for c in cases], [c[1] for c in cases])
    assert [d['score'] for d in result['details']] == [100.0 * c[2] for c in cases]
    assert result['score'] == pytest.approx(100 * 7 / 12)
    assert {(c['length'], c['depth']): c['num_samples'] for c in result['by_cell']} == {
        (1000, 0): 3, (1000, 50): 3, (2000, 0): 2, (2000, 50): 2, (2000, 100): 2}


def test_multi_needle_score_is_the_share_found():
    gold = dict(length=500, depth=0, needles=[dict(answer='Teal and copper.', keywords=[['teal'], ['copper']]),
                                              dict(answer='PELICAN-42.', keywords=[['pelican'], ['42']]),
                                              dict(answer='Pear wood.', keywords=[['pear']])])
    result = NeedleEvaluator().score(['1. Teal and copper stripes. 2. The password is pelican-42. '
                                      '3. It would appear to be oak.'], [gold])
    assert result['score'] == pytest.approx(200 / 3)


def test_grid_configs_come_from_one_definition():
    cfgs = needlebench_dataset_cfgs(grid='32k')
    assert [c['abbr'] for c in cfgs] == [f'needlebench-32k-{k}-{lang}' for k in ('single', 'multi3', 'reasoning')
                                         for lang in ('en', 'zh')]
    assert all(c['lengths'] == GRIDS['32k']['lengths'] for c in cfgs)
    assert max(GRIDS['128k']['lengths']) == 128000
    with pytest.raises(EvalkitError, match='unknown grid'):
        needlebench_dataset_cfgs(grid='3k')


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and data[12:16] == b'IHDR'
    return struct.unpack('>II', data[16:24])


def test_small_grid_end_to_end_with_smollm2(haystack_root, smollm2, tmp_path):
    config = tmp_path / 'eval_needle_small.py'
    config.write_text(
        'from evalkit.datasets.needlebench import needlebench_dataset_cfgs\n'
        'from evalkit.models import HuggingFacewithChatTemplate\n'
        f'datasets = needlebench_dataset_cfgs(grid="tiny", lengths=[224, 320], depths=[0, 100],\n'
        '                                    kinds=["single"], languages=["en", "zh"], max_out_len=20)\n'
        f'models = [dict(type=HuggingFacewithChatTemplate, abbr="smollm2", path={smollm2!r},\n'
        '               max_seq_len=2048, batch_size=4, run_cfg=dict(num_gpus=0))]\n', encoding='utf-8')
    env = dict(os.environ, EVALKIT_DATA_ROOT=str(haystack_root))
    proc = subprocess.run([sys.executable, 'run.py', str(config), '--debug', '-w', str(tmp_path / 'out')],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = next(p for p in (tmp_path / 'out').iterdir() if p.is_dir())
    results = {abbr: json.loads((run_dir / 'results' / 'smollm2' / f'{abbr}.json').read_text())
               for abbr in ('needlebench-tiny-single-en', 'needlebench-tiny-single-zh')}
    for metrics in results.values():
        cells = {(c['length'], c['depth']): c['score'] for c in metrics['by_cell']}
        assert set(cells) == {(224, 0), (224, 100), (320, 0), (320, 100)}
        assert metrics['score'] == pytest.approx(sum(cells.values()) / 4)
    # The summary: the grid per dataset with its averages, and the heatmap of 2 panels + their average.
    summary = (run_dir / 'summary').glob('summary_*.txt').__next__().read_text(encoding='utf-8')
    en = results['needlebench-tiny-single-en']
    assert 'smollm2 / needlebench-tiny-single-en' in summary and 'smollm2 / average' in summary
    assert f'{en["score"]:.1f}' in summary.split('smollm2 / needlebench-tiny-single-en')[1].split('smollm2 /')[0]
    png = next((run_dir / 'summary').glob('needlebench_*_smollm2.png'))
    width, height = figure_size(panels=3, n_lengths=2, n_depths=2)
    assert _png_size(png) == (round(width * DPI), round(height * DPI))
    import matplotlib.image
    pixels = matplotlib.image.imread(png)
    assert pixels.shape[:2] == (round(height * DPI), round(width * DPI)) and pixels.std() > 0.05
    cells_csv = next((run_dir / 'summary').glob('needlebench_*.csv')).read_text().splitlines()
    assert len(cells_csv) == 1 + 8
    # A summarizer named in the config is kept: the same run summarized again by the default one.
    named = tmp_path / 'eval_needle_named.py'
    named.write_text(config.read_text(encoding='utf-8') + 'summarizer = dict(type="DefaultSummarizer")\n',
                     encoding='utf-8')
    proc = subprocess.run([sys.executable, 'run.py', str(named), '-m', 'viz', '-r', run_dir.name,
                           '-w', str(tmp_path / 'out')], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = next((run_dir / 'summary').glob('summary_*.txt')).read_text(encoding='utf-8')
    assert 'needlebench-tiny-single-en' in summary and 'smollm2 / average' not in summary
