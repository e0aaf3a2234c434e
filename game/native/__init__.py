"""The native side: the ABI mirror, loading system libraries, running them over columns."""
