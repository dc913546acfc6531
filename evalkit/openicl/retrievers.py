"""Retrievers choose which training rows serve as in-context examples for each test row."""


class ZeroRetriever:
    """No in-context examples (zero-shot)."""

    def __init__(self, **unused):
        pass

    def retrieve(self, train_size, test_size):
        return [[] for _ in range(test_size)]


class FixKRetriever:
    """The same examples (``fix_id_list``, rows of the training split) for every test row."""

    def __init__(self, fix_id_list=None, **unused):
        self.fix_id_list = list(fix_id_list or [])

    def retrieve(self, train_size, test_size):
        bad = [i for i in self.fix_id_list if not 0 <= i < train_size]
        if bad:
            raise ValueError(f'fix_id_list names rows {bad} but the training split has {train_size} rows')
        return [list(self.fix_id_list) for _ in range(test_size)]
