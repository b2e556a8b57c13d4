"""The README documents every environment variable the settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_variable_is_documented():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    readme = (ROOT / "README.md").read_text()
    names = set(re.findall(r'env_\w+\("([A-Z_]+)"', settings_source))
    assert names, "no environment variables found: the pattern is out of date"
    undocumented = sorted(name for name in names if f"| `{name}` |" not in readme)
    assert undocumented == []


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    assert "scripts/run" in head and "scripts/test" in head
