# Needle in a haystack, the 8k grid (evalkit.datasets.needlebench.GRIDS): single-needle retrieval,
# multi-needle retrieval (3 needles) and two-needle reasoning, in English and Chinese.
from evalkit.datasets.needlebench import needlebench_dataset_cfgs

needlebench_8k_datasets = needlebench_dataset_cfgs(grid='8k')
