"""One exception family, so callers (and the CLI) can catch arcttt's own errors apart from bugs."""


class ArcTTTError(Exception):
    """Base class of every error arcttt raises on purpose."""


class TaskFormatError(ArcTTTError):
    """A task file or task dictionary is malformed; the message names file, task, pair and problem."""


class TransformError(ArcTTTError):
    """A transform name does not parse, or a transform cannot be applied to a grid."""


class CodecError(ArcTTTError):
    """A sequence cannot be encoded (too long) or decoded (not a grid)."""


class SubmissionError(ArcTTTError):
    """A submission file cannot be read at all."""
