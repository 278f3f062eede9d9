"""The README documents every setting and the two set-up commands."""

from pathlib import Path

from core.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]
    assert not missing, f"document these settings in the README: {missing}"


def test_the_two_setup_commands_are_there():
    assert "make run" in README and "make test" in README
