"""Grids and tasks: the Task type and its validation, loaders, invertible transforms, the token codec.

Pure Python and numpy: nothing here imports torch.
"""
