"""The one place that knows how grids become tokens.

A task prompt is a flat sequence of *symbols*::

    <s> I r o w \\n r o w \\n O r o w \\n </s> I ... O r o w \\n </s>
        └─ demo 1 input ─┘ └── demo 1 output ──┘      └ query output ┘

- one symbol per cell (``0``-``9``), ``\\n`` after every row;
- ``I`` opens an input grid, ``O`` an output grid, ``</s>`` closes each output;
- ``<s>`` starts the sequence, ``<pad>`` fills batches.

A :class:`Vocab` maps the 16 symbols to token ids. The grid LM's own vocabulary
is the identity (ids 0-15); :meth:`Vocab.from_tokenizer` maps them onto any
Hugging Face tokenizer in which each symbol is one token, so sequences are
built symbol by symbol and the loss mask comes from this structure, never from
a tokenizer's magic ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import CodecError
from .tasks import MAX_SIDE, Grid, Pair, Task

SYMBOLS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "\n", "I", "O", "<s>", "</s>", "<pad>")
NEWLINE, INPUT, OUTPUT, BOS, END, PAD = 10, 11, 12, 13, 14, 15  # symbol indices

# What the loss covers: the query output only; every output but the first demonstration's
# plus the query's (the paper's "demonstration loss"); or every grid token.
LOSS_MODES = ("query", "outputs", "all")


@dataclass(frozen=True)
class Vocab:
    """Token id of each symbol, in SYMBOLS order."""

    ids: tuple[int, ...] = tuple(range(len(SYMBOLS)))

    def __post_init__(self):
        if len(self.ids) != len(SYMBOLS):
            raise CodecError(f"a vocab needs {len(SYMBOLS)} ids, got {len(self.ids)}")
        # Cells, newline, I, O and END must be told apart when decoding; BOS and PAD may share
        # END's id (tokenizers without bos/pad reuse eos) but never a grid symbol's.
        core = self.ids[:BOS] + (self.ids[END],)
        if len(set(core)) != len(core):
            raise CodecError("grid symbols, I, O and END must map to distinct token ids")
        if self.ids[BOS] in self.ids[:BOS] or self.ids[PAD] in self.ids[:BOS]:
            raise CodecError("BOS and PAD must not share a token id with a grid symbol")

    @property
    def size(self) -> int:
        return max(self.ids) + 1

    def id(self, symbol_index: int) -> int:
        return self.ids[symbol_index]

    @property
    def lookup(self) -> np.ndarray:
        """symbol index -> token id, as an array for vectorised mapping."""
        return np.asarray(self.ids, dtype=np.int64)

    def symbol_of(self) -> dict[int, int]:
        """token id -> symbol index; for shared ids (bos=eos, pad=eos) END wins, then BOS."""
        out: dict[int, int] = {}
        for s in (*range(BOS), END, BOS, PAD):
            out.setdefault(self.ids[s], s)
        return out

    @classmethod
    def from_tokenizer(cls, tokenizer) -> "Vocab":
        """Map the symbols onto a Hugging Face tokenizer; each must be a single token."""
        ids = []
        for sym in SYMBOLS[:BOS]:
            enc = tokenizer.encode(sym, add_special_tokens=False)
            if len(enc) != 1:
                raise CodecError(f"tokenizer splits symbol {sym!r} into {len(enc)} tokens; need exactly one")
            ids.append(enc[0])
        eos = tokenizer.eos_token_id
        if eos is None:
            raise CodecError("tokenizer has no eos token")
        bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
        ids += [bos, eos, pad]
        return cls(tuple(int(i) for i in ids))


GRID_VOCAB = Vocab()


def grid_symbols(grid: Grid) -> np.ndarray:
    """Row-major cells with a newline symbol after each row."""
    h, w = grid.shape
    out = np.full((h, w + 1), NEWLINE, dtype=np.int64)
    out[:, :w] = grid
    return out.reshape(-1)


@dataclass
class Encoded:
    """Token ids of one sequence, and which positions the loss is taken on."""

    ids: np.ndarray  # int64 [T]
    loss_mask: np.ndarray  # bool [T]: True where the token is a training target
    prompt_length: int  # tokens up to and including the query's 'O' marker

    def __len__(self) -> int:
        return len(self.ids)


def encode(
    demos: Sequence[Pair],
    query_input: Grid,
    query_output: Grid | None = None,
    vocab: Vocab = GRID_VOCAB,
    loss: str = "outputs",
) -> Encoded:
    """Encode demonstrations + query; with `query_output`, also the answer and its END token."""
    if loss not in LOSS_MODES:
        raise CodecError(f"unknown loss mode '{loss}'; choose from {', '.join(LOSS_MODES)}")
    syms: list[np.ndarray] = [np.array([BOS])]
    mask: list[np.ndarray] = [np.zeros(1, bool)]

    def add(arr: np.ndarray, target: bool) -> None:
        syms.append(arr)
        mask.append(np.full(len(arr), target))

    for k, p in enumerate(demos):
        if p.output is None:
            raise CodecError("a demonstration needs an output grid")
        add(np.array([INPUT]), False)
        add(grid_symbols(p.input), loss == "all")
        add(np.array([OUTPUT]), False)
        add(np.append(grid_symbols(p.output), END), loss == "all" or (loss == "outputs" and k > 0))
    add(np.array([INPUT]), False)
    add(grid_symbols(query_input), loss == "all")
    add(np.array([OUTPUT]), False)
    prompt_length = sum(len(s) for s in syms)
    if query_output is not None:
        add(np.append(grid_symbols(query_output), END), True)
    ids = vocab.lookup[np.concatenate(syms)]
    return Encoded(ids, np.concatenate(mask), prompt_length)


def encode_task(task: Task, test_index: int = 0, vocab: Vocab = GRID_VOCAB, loss: str = "outputs",
                with_answer: bool = False) -> Encoded:
    """A task's demonstrations with one of its test inputs as the query."""
    q = task.test[test_index]
    if with_answer and q.output is None:
        raise CodecError(f"task {task.id}: test {test_index} has no output to encode")
    return encode(task.train, q.input, q.output if with_answer else None, vocab, loss)


def output_length(grid: Grid) -> int:
    """Tokens the codec spends on an output grid, END included."""
    h, w = grid.shape
    return h * (w + 1) + 1


def sequence_length(demos: Sequence[Pair], query_input: Grid, query_output: Grid | None = None) -> int:
    """Length of `encode(...)` without building it (for filtering datasets by context size)."""
    def grid_len(g: Grid) -> int:
        return g.shape[0] * (g.shape[1] + 1)

    n = 1 + sum(3 + grid_len(p.input) + grid_len(p.output) for p in demos) + 2 + grid_len(query_input)
    return n + (grid_len(query_output) + 1 if query_output is not None else 0)


def output_budget(max_side: int = MAX_SIDE) -> int:
    """Tokens of the largest output grid of max_side x max_side, END included."""
    return max_side * (max_side + 1) + 1


def decode_grid(tokens: Sequence[int], vocab: Vocab = GRID_VOCAB, max_side: int = MAX_SIDE) -> Grid:
    """Parse generated tokens (the answer after 'O') back into a grid.

    Rejects instead of guessing: unknown tokens, empty or ragged rows, a missing END,
    or grids with a side over max_side raise CodecError.
    """
    to_sym = vocab.symbol_of()
    rows: list[list[int]] = []
    row: list[int] = []
    for t in tokens:
        s = to_sym.get(int(t))
        if s is None:
            raise CodecError(f"token id {int(t)} is not a grid symbol")
        if s == END:
            if row:
                raise CodecError("output ends in the middle of a row (no newline before END)")
            if not rows:
                raise CodecError("empty output grid")
            if len(rows) > max_side or len(rows[0]) > max_side:
                raise CodecError(f"output grid {len(rows)}x{len(rows[0])} is larger than {max_side}x{max_side}")
            return np.array(rows, dtype=np.uint8)
        if s == NEWLINE:
            if not row:
                raise CodecError("empty row in output")
            if rows and len(row) != len(rows[0]):
                raise CodecError(f"ragged output (row 0 has {len(rows[0])} cells, row {len(rows)} has {len(row)})")
            rows.append(row)
            row = []
        elif s < NEWLINE:
            row.append(s)
        else:
            raise CodecError(f"unexpected symbol {SYMBOLS[s]!r} inside an output grid")
    raise CodecError("output was cut off before its END token")


def to_text(tokens: Sequence[int], vocab: Vocab = GRID_VOCAB) -> str:
    """Human-readable rendering of a token sequence (for logs and debugging)."""
    to_sym = vocab.symbol_of()
    return "".join(SYMBOLS[to_sym[int(t)]] if int(t) in to_sym else f"<{int(t)}>" for t in tokens)


class GridConstraint:
    """Which symbols may come next while generating an output grid.

    Guarantees a rectangular grid of 1..max_side x 1..max_side ended by END: digits while the
    row is shorter than the width (max_side before the first row ends), a newline only
    to end a non-empty row of the right width, END only after a complete row.
    """

    def __init__(self, max_side: int = MAX_SIDE):
        self.max_side = max_side
        self.width: int | None = None
        self.rows = 0
        self.col = 0
        self.done = False

    def allowed(self) -> list[int]:
        """Allowed symbol indices now (empty once END was emitted)."""
        if self.done:
            return []
        limit = self.width if self.width is not None else self.max_side
        allowed = []
        if self.col < limit and self.rows < self.max_side:
            allowed.extend(range(10))
        if self.col > 0 and (self.width is None or self.col == self.width):
            allowed.append(NEWLINE)
        if self.col == 0 and self.rows > 0:
            allowed.append(END)
        return allowed

    def step(self, symbol: int) -> None:
        if symbol not in self.allowed():
            raise CodecError(f"symbol {SYMBOLS[symbol]!r} is not allowed here")
        if symbol == END:
            self.done = True
        elif symbol == NEWLINE:
            if self.width is None:
                self.width = self.col
            self.rows += 1
            self.col = 0
        else:
            self.col += 1
