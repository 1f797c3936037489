"""Making the base model: initial fine-tuning, growing a model, and the synthetic task generators."""
