# The demo: SmolLM2-135M-Instruct on evalkit's bilingual demo set (gen and ppl), and on a few
# C-Eval subjects when the data root holds C-Eval.
from mmengine.config import read_base

from evalkit.datasets.ceval import ceval_dataset_cfgs
from evalkit.utils.paths import data_root

with read_base():
    from .datasets.demo.demo_gen import demo_datasets as demo_gen_datasets
    from .datasets.demo.demo_ppl import demo_datasets as demo_ppl_datasets
    from .models.smollm2_135m_instruct import models

_subjects = ['computer_network', 'high_school_physics', 'logic']
if (data_root() / 'ceval' / 'formal_ceval' / 'val').is_dir():
    ceval_gen_datasets = [dict(d, abbr=d['abbr'] + '-gen') for d in ceval_dataset_cfgs('gen', subjects=_subjects)]
    ceval_ppl_datasets = [dict(d, abbr=d['abbr'] + '-ppl') for d in ceval_dataset_cfgs('ppl', subjects=_subjects)]

summarizer = dict(summary_groups=[])
