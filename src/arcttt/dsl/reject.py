"""The one exception samplers and rules raise to ask for a fresh draw."""


class Reject(Exception):
    """Raised by a sampler or rule: this draw is unusable, draw again."""
