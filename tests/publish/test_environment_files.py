"""The pip lock and environment.yml describe the same environment."""

from compendium.envfile import environment_yaml, pins_from_environment, pins_from_lock


def test_environment_yml_has_exactly_the_lock_pins(project_root):
    lock = pins_from_lock((project_root / "requirements.txt").read_text())
    env = pins_from_environment((project_root / "environment.yml").read_text())
    assert len(lock) > 50  # transitive dependencies included
    assert env == lock


def test_every_lock_line_is_an_exact_pin(project_root):
    lines = [
        ln.strip() for ln in (project_root / "requirements.txt").read_text().splitlines()
        if ln.strip() and not ln.lstrip().startswith(("#", "-"))
    ]
    assert lines and all("==" in ln for ln in lines)


def test_direct_dependencies_are_in_the_lock(project_root):
    lock = pins_from_lock((project_root / "requirements.txt").read_text())
    direct = [
        ln.split("#")[0].strip().split(">")[0].split("<")[0].split("=")[0].lower()
        for ln in (project_root / "requirements.in").read_text().splitlines()
    ]
    missing = [d for d in direct if d and d not in lock]
    assert missing == []


def test_environment_yaml_round_trips_pins():
    text = environment_yaml("pandas==3.1.1\n    # via x\nnumpy==2.4.6\n")
    assert pins_from_environment(text) == {"pandas": "3.1.1", "numpy": "2.4.6"}
    assert "python=3.11" in text
