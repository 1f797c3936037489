import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcttt.data.codec import (
    BOS,
    END,
    GRID_VOCAB,
    INPUT,
    LOSS_MODES,
    NEWLINE,
    OUTPUT,
    PAD,
    SYMBOLS,
    GridConstraint,
    Vocab,
    decode_grid,
    encode,
    encode_task,
    grid_symbols,
    output_length,
    sequence_length,
    to_text,
)
from arcttt.data.tasks import Pair, Task
from arcttt.errors import CodecError
from conftest import grids, random_grid


@st.composite
def vocabs(draw):
    """GRID_VOCAB, or the 16 symbols on shuffled ids with an offset (like a real tokenizer's)."""
    if draw(st.booleans()):
        return GRID_VOCAB
    perm = draw(st.permutations(list(range(len(SYMBOLS)))))
    offset = draw(st.integers(0, 100_000))
    return Vocab(tuple(offset + p for p in perm))


@st.composite
def prompts(draw, max_demos=4, max_side=12):
    """(demos, query input, query output) with random small grids."""
    k = draw(st.integers(0, max_demos))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    def g():
        return random_grid(rng, int(rng.integers(1, max_side + 1)), int(rng.integers(1, max_side + 1)))

    return [Pair(g(), g()) for _ in range(k)], g(), g()


def symbols_of(enc: Vocab, ids) -> np.ndarray:
    to_sym = enc.symbol_of()
    return np.array([to_sym[int(t)] for t in ids])


# ---------------------------------------------------------------- round trips and lengths

@given(prompts(), grids(), vocabs())
def test_encode_decode_round_trip(prompt, query_output, vocab):
    demos, qi, _ = prompt
    enc = encode(demos, qi, query_output, vocab)
    assert enc.ids.dtype == np.int64
    assert len(enc) == len(enc.ids) == len(enc.loss_mask)
    assert enc.ids[enc.prompt_length - 1] == vocab.id(OUTPUT)
    assert enc.ids[0] == vocab.id(BOS)
    assert set(enc.ids.tolist()) <= set(vocab.ids)
    out = decode_grid(enc.ids[enc.prompt_length:], vocab)
    assert out.dtype == np.uint8
    assert np.array_equal(out, query_output)
    assert len(enc) - enc.prompt_length == output_length(query_output)


@given(prompts(), vocabs())
def test_sequence_length_matches_encode(prompt, vocab):
    demos, qi, qo = prompt
    assert sequence_length(demos, qi, qo) == len(encode(demos, qi, qo, vocab))
    prompt_only = encode(demos, qi, None, vocab)
    assert sequence_length(demos, qi) == len(prompt_only) == prompt_only.prompt_length
    # the prompt is a prefix of the full sequence
    full = encode(demos, qi, qo, vocab)
    assert np.array_equal(full.ids[: full.prompt_length], prompt_only.ids)


def test_encode_layout_on_a_tiny_example():
    demo = Pair(np.array([[1]], np.uint8), np.array([[2, 3]], np.uint8))
    enc = encode([demo], np.array([[4], [5]], np.uint8), np.array([[6]], np.uint8), loss="query")
    assert to_text(enc.ids) == "<s>I1\nO23\n</s>I4\n5\nO6\n</s>"
    assert enc.prompt_length == 15  # <s> I 1 nl O 2 3 nl </s> I 4 nl 5 nl O
    assert grid_symbols(np.array([[7, 8]], np.uint8)).tolist() == [7, 8, NEWLINE]


# ---------------------------------------------------------------- loss masks

@given(prompts(), vocabs())
def test_loss_mask_query(prompt, vocab):
    demos, qi, qo = prompt
    enc = encode(demos, qi, qo, vocab, loss="query")
    assert np.flatnonzero(enc.loss_mask).tolist() == list(range(enc.prompt_length, len(enc)))
    assert enc.ids[-1] == vocab.id(END)
    assert np.array_equal(decode_grid(enc.ids[enc.loss_mask], vocab), qo)
    # without an answer there is nothing to learn
    assert not encode(demos, qi, None, vocab, loss="query").loss_mask.any()


@given(prompts(), vocabs())
def test_loss_mask_outputs(prompt, vocab):
    demos, qi, qo = prompt
    enc = encode(demos, qi, qo, vocab, loss="outputs")
    expected = np.zeros(len(enc), bool)
    segments = []
    for k in range(1, len(demos)):
        # demo k's output starts right after its 'O' marker: the length of the prompt that ends there
        start = sequence_length(demos[:k], demos[k].input)
        segments.append((start, demos[k].output))
    segments.append((enc.prompt_length, qo))
    for start, grid in segments:
        n = output_length(grid)
        expected[start:start + n] = True
        assert enc.ids[start - 1] == vocab.id(OUTPUT)
        assert enc.ids[start + n - 1] == vocab.id(END)
        assert np.array_equal(decode_grid(enc.ids[start:start + n], vocab), grid)
    assert np.array_equal(enc.loss_mask, expected)
    if demos:  # the first demonstration's output is never a target
        start = sequence_length([], demos[0].input)
        assert not enc.loss_mask[start:start + output_length(demos[0].output)].any()


@given(prompts(), vocabs())
def test_loss_mask_all(prompt, vocab):
    demos, qi, qo = prompt
    enc = encode(demos, qi, qo, vocab, loss="all")
    syms = symbols_of(vocab, enc.ids)
    cell_or_newline = syms <= NEWLINE
    assert np.array_equal(enc.loss_mask, cell_or_newline | (syms == END))
    assert not enc.loss_mask[np.isin(syms, [INPUT, OUTPUT, BOS])].any()
    assert enc.loss_mask.sum() == len(enc) - 1 - 2 * (len(demos) + 1)


def test_loss_modes_differ_and_unknown_mode_raises():
    rng = np.random.default_rng(0)
    demos = [Pair(random_grid(rng, 2, 2), random_grid(rng, 2, 2)) for _ in range(3)]
    qi, qo = random_grid(rng, 2, 2), random_grid(rng, 2, 2)
    counts = [int(encode(demos, qi, qo, loss=m).loss_mask.sum()) for m in LOSS_MODES]
    assert counts == [7, 3 * 7, 4 * 6 + 4 * 7]  # query; demos 2..3 + query; all cells+newlines+ENDs
    with pytest.raises(CodecError):
        encode(demos, qi, qo, loss="everything")
    with pytest.raises(CodecError):
        encode([Pair(qi)], qi, qo)


def test_encode_task():
    rng = np.random.default_rng(0)
    t = Task("x", [Pair(random_grid(rng, 2, 3), random_grid(rng, 3, 2))],
             [Pair(random_grid(rng, 1, 1), random_grid(rng, 4, 4)), Pair(random_grid(rng, 2, 2))])
    enc = encode_task(t, 0, with_answer=True)
    assert np.array_equal(decode_grid(enc.ids[enc.prompt_length:]), t.test[0].output)
    assert len(encode_task(t, 0)) == enc.prompt_length
    assert len(encode_task(t, 1)) == sequence_length(t.train, t.test[1].input)
    with pytest.raises(CodecError):
        encode_task(t, 1, with_answer=True)


# ---------------------------------------------------------------- decode_grid rejects

def ids(text_symbols):
    return [SYMBOLS.index(s) for s in text_symbols]


@pytest.mark.parametrize("seq, reason", [
    (["1", "2", "\n", "3", "\n", "</s>"], "ragged"),
    (["</s>"], "empty"),
    (["\n", "</s>"], "empty row"),
    (["1", "\n", "\n", "</s>"], "empty row"),
    (["1", "2", "\n", "3", "4", "\n"], "cut off"),
    ([], "cut off"),
    (["1", "2", "</s>"], "middle of a row"),
    (["1", "I", "\n", "</s>"], "unexpected"),
    (["1", "\n", "O", "</s>"], "unexpected"),
    (["<s>", "1", "\n", "</s>"], "unexpected"),
    (["1", "<pad>", "\n", "</s>"], "unexpected"),
    (["1"] * 31 + ["\n", "</s>"], "larger than 30x30"),
    (["1", "\n"] * 31 + ["</s>"], "larger than 30x30"),
])
def test_decode_grid_rejects(seq, reason):
    with pytest.raises(CodecError, match=reason):
        decode_grid(ids(seq))


def test_decode_grid_rejects_unknown_tokens_and_accepts_30x30():
    with pytest.raises(CodecError, match="not a grid symbol"):
        decode_grid([1, 16, 10, 14])
    with pytest.raises(CodecError, match="not a grid symbol"):
        decode_grid([1, 10, 14], Vocab(tuple(range(100, 116))))
    g = np.full((30, 30), 9, np.uint8)
    assert np.array_equal(decode_grid(list(grid_symbols(g)) + [END]), g)


@given(st.lists(st.integers(0, 16), max_size=40))
def test_decode_grid_returns_a_valid_grid_or_raises_codec_error(tokens):
    try:
        g = decode_grid(tokens)
    except CodecError:
        return
    assert g.ndim == 2 and 1 <= g.shape[0] <= 30 and 1 <= g.shape[1] <= 30
    n = output_length(g)
    assert list(tokens[:n]) == list(grid_symbols(g)) + [END]


# ---------------------------------------------------------------- GridConstraint

@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 5, 30]), vocabs())
def test_constrained_random_walk_always_ends_in_a_valid_grid(seed, max_side, vocab):
    rng = np.random.default_rng(seed)
    p_newline, p_end = rng.uniform(0.02, 0.5), rng.uniform(0.02, 0.9)
    c = GridConstraint(max_side)
    walk = []
    for _ in range(max_side * (max_side + 1) + 2):
        allowed = c.allowed()
        assert allowed, "the constraint never leaves no choice before END"
        assert len(set(allowed)) == len(allowed) and all(0 <= a <= END for a in allowed)
        r = rng.random()
        if END in allowed and r < p_end:
            s = END
        elif NEWLINE in allowed and (r < p_newline or not any(a < NEWLINE for a in allowed)):
            s = NEWLINE
        else:
            s = int(rng.choice([a for a in allowed if a < NEWLINE] or allowed))
        c.step(s)
        walk.append(s)
        if c.done:
            break
    assert c.done and walk[-1] == END and c.allowed() == []
    g = decode_grid(vocab.lookup[walk], vocab)
    assert 1 <= g.shape[0] <= max_side and 1 <= g.shape[1] <= max_side


@given(grids())
def test_constraint_accepts_every_grid_step_by_step(g):
    c = GridConstraint()
    for s in list(grid_symbols(g)) + [END]:
        assert int(s) in c.allowed()
        c.step(int(s))
    assert c.done


def test_constraint_rejects_disallowed_symbols():
    c = GridConstraint()
    assert NEWLINE not in c.allowed() and END not in c.allowed()
    with pytest.raises(CodecError):
        c.step(END)
    with pytest.raises(CodecError):
        c.step(NEWLINE)
    with pytest.raises(CodecError):
        c.step(INPUT)
    for s in ids(["1", "2", "\n", "3"]):
        c.step(s)
    assert NEWLINE not in c.allowed() and END not in c.allowed()  # row 1 is shorter than row 0
    c.step(ids(["4"])[0])
    assert c.allowed() == [NEWLINE]  # row 1 is full
    c.step(NEWLINE)
    assert END in c.allowed()
    small = GridConstraint(max_side=2)
    for s in ids(["1", "1"]):
        small.step(s)
    assert small.allowed() == [NEWLINE]
    for s in ids(["\n", "1", "1", "\n"]):
        small.step(s)
    assert small.allowed() == [END]


# ---------------------------------------------------------------- Vocab

class FakeTokenizer:
    """Just enough of a Hugging Face tokenizer: a character vocabulary plus special ids."""

    def __init__(self, split=(), bos=1, eos=2, pad=0):
        self.split = set(split)
        self.table = {ch: 1000 + 7 * i for i, ch in enumerate("0123456789\nIO")}
        self.bos_token_id, self.eos_token_id, self.pad_token_id = bos, eos, pad

    def encode(self, text, add_special_tokens=True):
        assert add_special_tokens is False
        if text in self.split:
            return [5, 6]
        return [self.table[ch] for ch in text]


def test_vocab_from_tokenizer_round_trip():
    v = Vocab.from_tokenizer(FakeTokenizer())
    assert v.ids[:13] == tuple(1000 + 7 * i for i in range(13))
    assert (v.id(BOS), v.id(END), v.id(PAD)) == (1, 2, 0)
    assert v.size == max(v.ids) + 1
    rng = np.random.default_rng(0)
    demos = [Pair(random_grid(rng, 3, 4), random_grid(rng, 5, 2))]
    qo = random_grid(rng, 7, 7)
    enc = encode(demos, random_grid(rng, 2, 2), qo, v)
    assert np.array_equal(decode_grid(enc.ids[enc.prompt_length:], v), qo)


def test_vocab_from_tokenizer_without_bos_or_pad_uses_eos():
    v = Vocab.from_tokenizer(FakeTokenizer(bos=None, pad=None))
    assert v.id(BOS) == v.id(END) == v.id(PAD) == 2
    assert v.symbol_of()[2] == END  # END wins, so decoding stops at eos
    qo = np.array([[1, 2], [3, 4]], np.uint8)
    enc = encode([], np.array([[5]], np.uint8), qo, v)
    assert np.array_equal(decode_grid(enc.ids[enc.prompt_length:], v), qo)
    assert to_text(enc.ids, v).endswith("O12\n34\n</s>")


def test_vocab_from_tokenizer_rejects_split_symbols_and_missing_eos():
    with pytest.raises(CodecError, match="2 tokens"):
        Vocab.from_tokenizer(FakeTokenizer(split={"7"}))
    with pytest.raises(CodecError, match="2 tokens"):
        Vocab.from_tokenizer(FakeTokenizer(split={"\n"}))
    with pytest.raises(CodecError, match="eos"):
        Vocab.from_tokenizer(FakeTokenizer(eos=None))
    with pytest.raises(CodecError):  # eos shares an id with a digit
        Vocab.from_tokenizer(FakeTokenizer(eos=1000))


def test_vocab_validation():
    with pytest.raises(CodecError):
        Vocab(tuple(range(15)))
    with pytest.raises(CodecError):
        Vocab((0,) * 16)
    with pytest.raises(CodecError):  # pad collides with digit 3
        Vocab(tuple(range(15)) + (3,))
    assert GRID_VOCAB.ids == tuple(range(16)) and GRID_VOCAB.size == 16
    assert to_text([0, 10, 99]) == "0\n<99>"
