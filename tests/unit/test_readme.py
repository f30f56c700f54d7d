"""The README's configuration table keeps up with the settings."""

from graphql_api.settings import Settings
from tests.support import ROOT


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [n for n in Settings.model_fields if f"`AURASTREAM_{n.upper()}`" not in readme]
    assert missing == []


def test_the_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text()[:800]
    assert "make serve" in head
    assert "make test" in head
