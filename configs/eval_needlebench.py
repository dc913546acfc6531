# Needle in a haystack with SmolLM2-135M-Instruct on the small default grid: single-needle
# retrieval, multi-needle retrieval and two-needle reasoning, English and Chinese. The summary
# adds a score grid per dataset (depth x context length) and a heatmap PNG per model.
from mmengine.config import read_base

with read_base():
    from .datasets.needlebench.needlebench_default import needlebench_default_datasets as datasets
    from .models.smollm2_135m_instruct import models
