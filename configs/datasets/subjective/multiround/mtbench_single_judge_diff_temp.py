# MT-Bench (80 questions, two turns), one dataset per FastChat sampling temperature, the judge
# rating the second answer 1-10, as OpenCompass's mtbench_single_judge_diff_temp config.
from evalkit.datasets.subjective import mtbench_dataset_cfgs

mtbench_datasets = mtbench_dataset_cfgs(max_out_len=1024)
