"""loaders.siphash against pandas.util.hash_array, the definition the row ids were made with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from loaders import police
from loaders.siphash import hash_strings


def _pandas(values) -> np.ndarray:
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False)


def test_lengths_around_the_8_byte_blocks_and_multibyte_text():
    values = [
        "",
        "a",
        "abcdefg",
        "abcdefgh",
        "abcdefghi",
        "x" * 15,
        "x" * 16,
        "x" * 17,
        "é£€😀",
        "On or near Hatfield Road\x1fAnti-social behaviour",
        "y" * 400,
    ]
    assert np.array_equal(hash_strings(pa.array(values)), _pandas(values))
    # a slice (offset into the buffers) and a chunked array give the same as a fresh array
    assert np.array_equal(hash_strings(pa.array(values).slice(3, 5)), _pandas(values[3:8]))
    assert np.array_equal(hash_strings(pa.chunked_array([values[:4], values[4:]])), _pandas(values))
    assert hash_strings(pa.array([], pa.string())).size == 0


def test_county_keys_of_rows_without_crime_id_hash_as_pandas(county_police):
    """Every key an id is made from, in the 13 county months (27,858 rows without a Crime ID)."""
    keys = []
    for name, read in police.list_files([county_police]):
        raw, _ = police._split_rows(name, read())
        raw = raw.filter(pc.equal(pc.utf8_trim_whitespace(raw["Crime ID"]), ""))
        keys.append(pc.binary_join_element_wise(*(raw[c] for c in police._ID_FIELDS), "\x1f"))
    keys = pa.chunked_array(keys)
    assert len(keys) == 27_858
    assert np.array_equal(hash_strings(keys), _pandas(keys.to_pylist()))


def test_ids_are_the_pandas_definition(county_police):
    """anon-<hash>-<n>: n counts identical rows before it in the file (pandas' groupby cumcount)."""
    path = county_police / "2021-06" / "2021-06-hertfordshire-street.csv"
    raw, _ = police._split_rows(str(path), path.read_bytes())
    table, _ = police.parse(str(path), path.read_bytes())
    anon = pc.equal(pc.utf8_trim_whitespace(raw["Crime ID"]), "").to_numpy(zero_copy_only=False)
    subset = raw.filter(pa.array(anon))
    digest = _pandas(pc.binary_join_element_wise(*(subset[c] for c in police._ID_FIELDS), "\x1f").to_pylist())
    n = pd.Series(digest).groupby(digest).cumcount().to_numpy()
    expected = [f"anon-{d}-{k}" for d, k in zip(digest, n)]
    assert n.max() > 0  # identical rows occur, so the occurrence number is exercised
    assert table["record_id"].to_numpy(zero_copy_only=False)[anon].tolist() == expected


@pytest.mark.parametrize(
    "values, key, error",
    [
        (pa.array(["a", None]), b"0123456789123456", "no null"),
        (pa.array([1, 2]), b"0123456789123456", "string array"),
        (pa.array(["a"]), b"short", "16 bytes"),
    ],
)
def test_bad_arguments_are_refused(values, key, error):
    with pytest.raises((ValueError, TypeError), match=error):
        hash_strings(values, key)
