from pathlib import Path

import pytest

from agentmortem.taxonomy import TaxonomyError, load_taxonomy, mast


def test_mast_has_fourteen_modes_in_three_categories():
    t = mast()
    assert len(t.ids) == 14
    assert [c.id for c in t.categories] == ["FC1", "FC2", "FC3"]
    assert t.mode("FM-3.2").name == "No or Incomplete Verification"
    assert t.mode("FM-3.3").name == "Incorrect Verification"
    assert sum(1 for m in t.modes if m.category == "FC2") == 6
    assert all(m.definition and m.single_agent and m.multi_agent for m in t.modes)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("1.3", "FM-1.3"),
        ("FM-1.3", "FM-1.3"),
        ("fm 2.6", "FM-2.6"),
        ("Step Repetition", "FM-1.3"),
        ("ignored other agent’s input", "FM-2.5"),
        ("3.2 Incorrect Verification\n\nThe check is wrong", "FM-3.3"),  # the name wins over an old code
        ("9.9", None),
        ("not a mode", None),
    ],
)
def test_resolve_spellings(label, expected):
    assert mast().resolve(label) == expected


def test_legacy_numbering_swaps_verification_codes():
    t = mast()
    assert t.resolve("3.2", numbering="legacy") == "FM-3.3"
    assert t.resolve("3.3", numbering="legacy") == "FM-3.2"
    assert t.resolve("1.1", numbering="legacy") == "FM-1.1"


def test_custom_taxonomy_from_yaml(tmp_path: Path):
    path = tmp_path / "mini.yaml"
    path.write_text(
        "name: mini\nversion: '1'\ncategories: [{id: C1, name: Only}]\n"
        "modes: [{id: X-1, name: Looping, category: C1, definition: loops}]\n"
    )
    t = load_taxonomy(path)
    assert t.ids == ["X-1"]
    assert t.resolve("looping") == "X-1"


def test_bad_taxonomy_is_one_line_error(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nversion: '1'\ncategories: []\nmodes: [{id: X, name: n, category: C9, definition: d}]\n")
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
