"""Pure metric functions: LazyFrames in, LazyFrames out; the caller collects."""
