"""-r after the prompt or the model changed: those predictions are made again, the log says why,
and nothing of the old predictions is kept, not even an unfinished batch."""
import json
import logging
import shutil

import pytest
import torch
from faults.helpers import DATASET, MODEL, TINY, only_run, partial_file, predictions, write_config
from transformers import LlamaForCausalLM

from evalkit.cli import main

NEW_HEADER = '下面'


@pytest.fixture(autouse=True)
def _info_logs(caplog):
    caplog.set_level(logging.INFO, logger='evalkit')


def _run(config, work_dir, data_root, *flags):
    return main([str(config), '-w', str(work_dir), '--data-root', str(data_root), '-m', 'infer', '--debug', *flags])


def _meta(run):
    return json.loads((run / 'predictions' / MODEL / f'{DATASET}.meta.json').read_text())


def _all_new_prompts(rows):
    prompts = [json.dumps(r['origin_prompt'], ensure_ascii=False) for r in rows.values()]
    return all(f'{NEW_HEADER}是中国关于' in p and '以下是中国关于' not in p for p in prompts)


def test_changed_prompt_recomputes_and_says_so(tiny_model_dir, data_root, tmp_path, caplog, reference_run):
    new = write_config(tmp_path, tiny_model_dir, name='eval_new_prompt.py', header=NEW_HEADER, **TINY)
    work = tmp_path / 'out'
    run = work / reference_run.name
    shutil.copytree(reference_run, run)  # finished under the old prompt
    old_meta = _meta(run)
    assert _run(new, work, data_root, '-r') == 0
    assert f'{MODEL}/{DATASET}: predictions made again: the prompt or inference config changed' in caplog.text
    rows = predictions(run)
    assert len(rows) == len(predictions(reference_run)) and _all_new_prompts(rows)
    assert _meta(run)['parts']['prompt'] != old_meta['parts']['prompt']
    assert _meta(run)['parts']['model'] == old_meta['parts']['model']


def test_unfinished_rows_of_the_old_prompt_are_not_kept(tiny_model_dir, data_root, tmp_path, caplog, reference_run):
    new = write_config(tmp_path, tiny_model_dir, name='eval_new_prompt.py', header=NEW_HEADER, **TINY)
    run = tmp_path / 'out' / '20260101_000000'
    partial = partial_file(run)
    partial.parent.mkdir(parents=True)
    old = predictions(reference_run)
    partial.write_text(json.dumps({'fingerprint': _meta(reference_run)['fingerprint'],
                                   'rows': {k: old[k] for k in ('0', '1', '2')}}, ensure_ascii=False))
    assert _run(new, tmp_path / 'out', data_root, '-r') == 0
    assert f'{DATASET}: the unfinished rows on disk were made under another config; starting over' in caplog.text
    assert _all_new_prompts(predictions(run))


def test_changed_model_files_recompute_and_say_so(tiny_model_dir, data_root, tmp_path, caplog, reference):
    model = tmp_path / 'model'
    shutil.copytree(tiny_model_dir, model)
    config = write_config(tmp_path, model, **TINY)
    work = tmp_path / 'out'
    assert _run(config, work, data_root) == 0
    run = only_run(work)
    assert predictions(run) == reference
    before = _meta(run)
    # Same path and config, other weights: a model retrained in place.
    torch.manual_seed(1)
    LlamaForCausalLM(LlamaForCausalLM.config_class.from_pretrained(model)).save_pretrained(model)
    caplog.clear()
    assert _run(config, work, data_root, '-r') == 0
    assert f'{MODEL}/{DATASET}: predictions made again: the model (its settings or its files) changed' in caplog.text
    after = _meta(run)
    assert after['parts']['model'] != before['parts']['model']
    assert after['parts']['prompt'] == before['parts']['prompt']
    assert predictions(run) != reference
    caplog.clear()
    assert _run(config, work, data_root, '-r') == 0  # now current: nothing is made again
    assert 'predictions made again' not in caplog.text and 'already have predictions' in caplog.text
