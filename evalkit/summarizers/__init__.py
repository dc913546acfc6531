from .default import DefaultSummarizer
from .subjective import (AlignmentBenchSummarizer, AlpacaSummarizer, CompassArenaSummarizer, MTBenchSummarizer,
                         SubjectiveSummarizer)

__all__ = ['DefaultSummarizer', 'SubjectiveSummarizer', 'AlignmentBenchSummarizer', 'AlpacaSummarizer',
           'CompassArenaSummarizer', 'MTBenchSummarizer']
