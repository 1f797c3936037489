"""Accelerations of the method that compute the same outputs as its plain path, each tested against it:
a KV cache that crops in place, draft decoding, depth-first sampling, LoRA trained through its merged
weight, fp32 attention for short CPU batches."""
