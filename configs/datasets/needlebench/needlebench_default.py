# Needle in a haystack, the small default grid (512, 768 and 1024 tokens x 3 depths), which runs
# with SmolLM2-135M on a CPU in minutes (evalkit.datasets.needlebench.GRIDS): single-needle retrieval,
# multi-needle retrieval (3 needles) and two-needle reasoning, in English and Chinese.
from evalkit.datasets.needlebench import needlebench_dataset_cfgs

needlebench_default_datasets = needlebench_dataset_cfgs(grid='default')
