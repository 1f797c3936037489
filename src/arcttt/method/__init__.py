"""The paper's method, in execution order: ttt_data (leave-one-out data), models, trainer, ttt (per-task
adapters), inference (augmented, grid-constrained decoding), voting, scoring."""
