"""One task per model and dataset, as OpenCompass's NaivePartitioner. Simple, but every task
loads its model again: use it for debugging a single dataset, not for a benchmark."""


class NaivePartitioner:

    def __init__(self, **unused):
        pass

    def partition(self, models, datasets, num_workers=1, sizes=None):
        return [{'model': m, 'datasets': [d]} for m in models for d in datasets]
