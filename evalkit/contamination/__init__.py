"""Data-contamination analysis: n-gram overlap with a training corpus, annotated clean-subset
scores, and perplexity-based detection when the training data is unknown."""
