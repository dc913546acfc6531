"""Balanced tasks: each model's datasets are spread over as many tasks as there are workers, so
every worker loads the model once and all of them finish at about the same time."""


class SizePartitioner:

    def __init__(self, num_tasks=None, **unused):
        self.num_tasks = num_tasks

    def partition(self, models, datasets, num_workers=1, sizes=None):
        """``sizes`` gives each dataset's estimated cost (same order as ``datasets``)."""
        sizes = list(sizes) if sizes is not None else [1] * len(datasets)
        tasks = []
        n = max(1, min(self.num_tasks or num_workers, len(datasets)))
        for model in models:
            bins = [[] for _ in range(n)]
            loads = [0] * n
            # Largest first, each to the least loaded task: within 4/3 of the best split.
            for i in sorted(range(len(datasets)), key=lambda i: -sizes[i]):
                k = loads.index(min(loads))
                bins[k].append(i)
                loads[k] += sizes[i]
            for members in bins:
                if members:
                    tasks.append({'model': model, 'datasets': [datasets[i] for i in sorted(members)]})
        return tasks
