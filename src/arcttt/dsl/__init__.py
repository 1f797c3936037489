"""Grid primitives shared by the synthetic task generators (arcttt.train.generators) and the program
search (arcttt.search): one implementation of each operation, pure numpy.

Each primitive takes and returns uint8 grids (and plain Python values); a primitive that does not
apply to a grid (an empty selection, a tie, a size that does not divide) raises Reject.
"""
