"""The tokenizer: Unicode-aware words, symbols as tokens, NFKC, lower case, input kinds."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pyarrow as pa
import pytest

from embedlab.errors import DataError
from embedlab.text import tokenize
from embedlab.text._columns import text_chunks
from embedlab.text.tokenize import tokenize_chunk, tokenize_chunk_regex


def tokens(*texts):
    return tokenize(list(texts)).to_pylist()


def test_unicode_punctuation_is_split_from_words():
    assert tokens("café—nice!") == [["café", "—", "nice", "!"]]
    assert tokens("“quoted”") == [["“", "quoted", "”"]]
    expected = ["«", "bonjour", "»", ",", "dit", "-", "il", ".", ".", "."]
    assert tokens("«bonjour», dit-il…") == [expected]


def test_each_symbol_is_its_own_token():
    assert tokens("wow!!! :-)") == [["wow", "!", "!", "!", ":", "-", ")"]]
    assert tokens("$5.99 & 100%") == [["$", "5", ".", "99", "&", "100", "%"]]


def test_cjk_and_emoji():
    assert tokens("日本語テキスト😀👍") == [["日本語テキスト", "😀", "👍"]]
    assert tokens("love it😍so much") == [["love", "it", "😍", "so", "much"]]


def test_letters_digits_marks_and_underscore_make_words():
    assert tokens("snake_case x2 ünïcödé") == [["snake_case", "x2", "ünïcödé"]]
    # Combining marks stay inside the word (Devanagari vowel signs are category M).
    assert tokens("नमस्ते दुनिया") == [["नमस्ते", "दुनिया"]]
    decomposed = "cafe\u0301"
    assert tokens(decomposed) == [["café"]]  # NFKC composes it


def test_nfkc_and_lower_case():
    assert tokens("ﬁne ＦＵＬＬＷＩＤＴＨ") == [["fine", "fullwidth"]]
    assert tokens("ÉTÉ Straße") == [["été", "straße"]]
    assert tokens("x²") == [["x2"]]


def test_unicode_white_space_separates():
    text = "a\u00a0b\u2003c\u3000d\te\nf\x1cg\x85h\u2028i"
    assert tokens(text) == [list("abcdefghi")]
    assert tokens("a\x1cb") == [["a", "b"]]  # ASCII text with an information separator


def test_empty_none_and_blank_texts_give_empty_lists():
    assert tokens("", None, "   ", "\n\t", "ok") == [[], [], [], [], ["ok"]]
    assert tokenize([]).to_pylist() == []
    assert tokenize([None, None]).to_pylist() == [[], []]


def test_returns_list_of_string_array():
    result = tokenize(["a b"])
    assert isinstance(result, pa.ListArray)
    assert result.type == pa.list_(pa.string())
    assert result.null_count == 0


def test_accepts_numpy_and_arrow_inputs():
    expected = [["a", "b"], [], ["c", "!"]]
    objects = np.array(["A b", None, "c!"], dtype=object)
    assert tokenize(objects).to_pylist() == expected
    assert tokenize(np.array(["A b", float("nan"), "c!"], dtype=object)).to_pylist() == expected
    assert tokenize(np.array(["A b", "", "c!"])).to_pylist() == expected
    assert tokenize(pa.array(["A b", None, "c!"])).to_pylist() == expected
    assert tokenize(pa.array(["A b", None, "c!"], pa.large_string())).to_pylist() == expected
    chunked = pa.chunked_array([["A b"], [None, "c!"]])
    assert tokenize(chunked).to_pylist() == expected
    assert tokenize(("A b", None, "c!")).to_pylist() == expected


def test_accepts_pandas_series():
    pd = pytest.importorskip("pandas")
    expected = [["a", "b"], [], [], ["c", "!"]]
    assert tokenize(pd.Series(["A b", None, float("nan"), "c!"])).to_pylist() == expected
    assert tokenize(pd.Series(["A b", None, None, "c!"], dtype="string")).to_pylist() == expected


def test_rejects_wrong_inputs_with_a_hint():
    with pytest.raises(DataError, match="Wrap it in a list"):
        tokenize("just one text")
    with pytest.raises(DataError, match="received int 7 at position 1"):
        tokenize(["fine", 7])
    with pytest.raises(DataError, match="type int64"):
        tokenize(pa.array([1, 2]))
    with pytest.raises(DataError, match="1-D"):
        tokenize(np.array([["a", "b"]], dtype=object))


def test_invalid_utf8_is_a_data_error():
    raw = pa.array([b"ok \xff\xfe"], pa.binary())
    broken = pa.Array.from_buffers(pa.string(), 1, raw.buffers())
    with pytest.raises(DataError, match="valid UTF-8"):
        tokenize(broken)


def test_many_chunks_keep_order():
    texts = [f"doc {i}!" if i % 7 else None for i in range(10_000)]
    result = tokenize(texts).to_pylist()
    assert len(result) == len(texts)
    assert result[1] == ["doc", "1", "!"]
    assert result[7] == []
    assert result[9_999] == ["doc", "9999", "!"]
    assert len(text_chunks(pa.chunked_array([pa.array(texts)]), threads=2)) > 1


def _python_tokens(text: str) -> list[str]:
    """A slow reference written with Python's unicodedata, one character at a time."""
    text = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    word = ""
    for char in text:
        if unicodedata.category(char)[0] in "LNM" or char == "_":
            word += char
            continue
        if word:
            out.append(word)
            word = ""
        if not char.isspace():
            out.append(char)
    if word:
        out.append(word)
    return out


def test_matches_a_character_by_character_reference():
    rng = np.random.default_rng(0)
    alphabet = list("aZ9_ .,!?-'\"\t\n") + list("éßÆ—“”…€😀日本\u00a0\u3000\u0301ǅ")
    texts = ["".join(rng.choice(alphabet, size=rng.integers(0, 30))) for _ in range(500)]
    # Case mappings that change the length (İ -> i̇) differ between Python and Arrow: skip.
    got = tokenize(texts).to_pylist()
    assert got == [_python_tokens(text) for text in texts]


def test_ascii_and_unicode_paths_agree():
    rng = np.random.default_rng(1)
    alphabet = list("abcXYZ019_ .,;:!?()[]{}<>@#$%^&*+=|~`'\"\\/-\t\n\r\x0b\x0c\x1c\x1f")
    texts = ["".join(rng.choice(alphabet, size=rng.integers(0, 40))) for _ in range(300)]
    ascii_result = tokenize_chunk(pa.array(texts)).to_pylist()
    # Appending a non-ASCII text forces the Unicode kernels on the same texts.
    unicode_result = tokenize_chunk(pa.array([*texts, "é"])).to_pylist()[:-1]
    assert ascii_result == unicode_result
    pattern = re.compile(r"\w+|[^\w\s]")
    assert ascii_result == [pattern.findall(text.lower()) for text in texts]


def test_no_empty_tokens_for_any_single_character():
    texts = [f"a{chr(c)}b" for c in range(0x20, 0x3100) if not 0xD800 <= c < 0xE000]
    flat = tokenize(texts).flatten().to_pylist()
    assert "" not in flat


def _random_unicode_texts(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 0x110000, size=count * 12)
    codes = codes[(codes < 0xD800) | (codes >= 0xE000)]
    common = list("ab _.!  \t\n\u00a0\u3000\u0301\u2028\x85\x1c")
    texts = []
    for i in range(count):
        picked = [chr(c) for c in codes[i * 8 : i * 8 + 8]]
        picked += list(rng.choice(common, size=rng.integers(0, 8)))
        rng.shuffle(picked)
        texts.append("".join(picked))
    return texts


def test_byte_scan_equals_the_regex_kernels_on_random_unicode():
    texts = _random_unicode_texts(3000, seed=2)
    assert tokenize_chunk(pa.array(texts)).equals(tokenize_chunk_regex(pa.array(texts)))


def test_byte_scan_equals_the_regex_kernels_on_every_code_point():
    codes = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    texts = ["x" + "".join(map(chr, codes[i : i + 64])) + "y" for i in range(0, len(codes), 64)]
    texts += [f"a{chr(c)}b" for c in range(0x3100)]
    assert tokenize_chunk(pa.array(texts)).equals(tokenize_chunk_regex(pa.array(texts)))


def test_apostrophes_decimals_and_scripts_side_by_side():
    texts = pa.array(["it’s 3.5 ﬁne—ok?", "日本語😀x"])
    assert tokenize(texts).to_pylist() == [
        ["it", "’", "s", "3", ".", "5", "fine", "—", "ok", "?"],
        ["日本語", "😀", "x"],
    ]
