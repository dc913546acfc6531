# The subjective demo questions (the generic JSON format, subjective_demo.json next to this file),
# each answer rated 1-10 by the judge with FastChat's prompt (with the reference answer where the
# question has one).
from pathlib import Path

from evalkit.datasets.subjective import subjective_dataset_cfgs

subjective_demo_score_datasets = subjective_dataset_cfgs(
    Path(__file__).with_name('subjective_demo.json'), abbr='subjective_demo', mode='singlescore')
