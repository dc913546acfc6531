from .default import DefaultSummarizer
from .needle import NeedleSummarizer
from .subjective import (AlignmentBenchSummarizer, AlpacaSummarizer, CompassArenaSummarizer, MTBenchSummarizer,
                         SubjectiveSummarizer)

__all__ = ['DefaultSummarizer', 'NeedleSummarizer', 'SubjectiveSummarizer', 'AlignmentBenchSummarizer',
           'AlpacaSummarizer', 'CompassArenaSummarizer', 'MTBenchSummarizer']
