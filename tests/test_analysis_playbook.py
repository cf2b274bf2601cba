import pytest

from agentmortem.analysis import PlaybookError, default_playbook, load_playbook
from agentmortem.taxonomy import mast


def test_every_mode_has_a_fix_and_every_fix_names_real_modes():
    book = default_playbook()
    assert book.covered_modes() == set(mast().ids)
    assert len({entry.id for entry in book.interventions}) == len(book.interventions)


def test_a_bad_playbook_file_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "book.yaml"
    path.write_text("name: x\nversion: '1'\ninterventions: [{id: a, title: t, fix: f, modes: []}]\n")
    with pytest.raises(PlaybookError, match=r"book\.yaml: cannot load playbook"):
        load_playbook(path)
