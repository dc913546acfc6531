# The subjective demo questions (subjective_demo.json next to this file), two models' answers
# compared by the judge with FastChat's pairwise prompt, each pair shown in both orders.
from pathlib import Path

from evalkit.datasets.subjective import subjective_dataset_cfgs

subjective_demo_compare_datasets = subjective_dataset_cfgs(
    Path(__file__).with_name('subjective_demo.json'), abbr='subjective_demo_compare', mode='allpair',
    infer_order='double')
