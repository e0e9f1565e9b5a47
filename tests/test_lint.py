"""Static checks run as part of the suite: ruff, snakefmt, snakemake --lint, a dry run of the
default study, and the conda env files carrying the same pins as pyproject.toml."""

import re
import subprocess
import sys
import tomllib

import yaml
from conftest import REPO, snakemake

BIN = REPO / ".venv" / "bin" if (REPO / ".venv" / "bin").exists() else None


def run(*cmd):
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)


def tool(name):
    return str(BIN / name) if BIN else name


def test_ruff_is_clean():
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout[-3000:]


def test_snakefmt_is_clean():
    result = run(tool("snakefmt"), "--check", "Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stderr[-3000:]


def test_snakemake_lint_is_clean():
    result = run(sys.executable, "-m", "snakemake", "--lint")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_default_study_dry_run(tmp_path):
    result = snakemake(tmp_path, "-n", "--cores", "2", configfile=REPO / "config" / "config.yaml")
    out = result.stdout + result.stderr
    for name, entry in yaml.safe_load((REPO / "config" / "config.yaml").read_text())[
        "conditions"
    ].items():
        if "seeds" in entry:  # a seed ensemble: its seeds are conditions, tabled together
            assert f"results/{name}_seed0/overview.npz" in out
        else:
            assert f"results/{name}/overview.png" in out
    assert "results/tables/seeds.csv" in out


def test_paper_config_is_valid(tmp_path):
    snakemake(tmp_path, "-n", "--cores", "2", configfile=REPO / "config" / "paper.yaml")


def pins(requirements):
    out = {}
    for req in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[a-z,]+\])?==(\S+)", req.strip())
        if match:
            out[match.group(1).lower()] = match.group(3)
    return out


def test_env_files_carry_the_pyproject_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = pins(project["dependencies"])
    dev = pins(project["optional-dependencies"]["dev"])
    envs = {path: yaml.safe_load(path.read_text()) for path in (REPO / "envs").glob("*.yaml")}
    envs[REPO / "environment.yml"] = yaml.safe_load((REPO / "environment.yml").read_text())
    assert len(envs) >= 2
    for path, env in envs.items():
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        listed = pins(pip)
        for name, version in listed.items():
            assert runtime.get(name, dev.get(name)) == version, f"{path.name}: {name}"
        missing = {n for n in set(runtime) - set(listed) if not n.startswith("snakemake")}
        assert not missing, f"{path.name} lacks {sorted(missing)}"


def test_the_repository_cites_nothing_outside_itself():
    """Methods live in docs/; no file may send a reader to notes a clone does not have."""
    outside = re.compile(r"papers\.md|design\.md|\.\./shared")
    tracked = run("git", "ls-files").stdout.split()
    hits = [
        f"{path}:{n}"
        for path in tracked
        if not path.endswith((".png", ".mp4", ".npz"))
        for n, line in enumerate((REPO / path).read_text(errors="ignore").splitlines(), 1)
        if outside.search(line) and path != "tests/test_lint.py"
    ]
    assert not hits, hits


def test_the_readme_layout_names_every_module_and_no_other():
    """The README's Layout lists the library's folders with their modules, and the rule files,
    as they are in the tree: a renamed, added or removed module must be renamed there too."""
    layout = (REPO / "README.md").read_text().split("## Layout", 1)[1].split("```")[1]
    lines = layout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("workflow/trainability/"))
    named, place, names = set(), None, ""
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        match = re.match(r"  (\S+/|\S+\.py, \S+\.py)\s{2,}(.*)$", line)
        if match is None:  # a description line, or the modules line continued after a comma
            if names.endswith(","):
                names = line.strip()
                named |= {f"{place}{name.strip()}" for name in names.split(",") if name.strip()}
            continue
        place, names = match.groups()
        if place.endswith(".py"):  # the top-level modules
            named |= {f"{name.strip()[:-3]}" for name in place.split(",")}
        else:
            named |= {f"{place}{name.strip()}" for name in names.split(",") if name.strip()}
    library = REPO / "workflow" / "trainability"
    modules = {
        str(path.relative_to(library).with_suffix(""))
        for path in library.rglob("*.py")
        if path.stem != "__init__" and "static" not in path.parts
    }
    assert named == modules
    rules = re.search(r"^workflow/rules/\s+(.*) \(\.smk\)$", layout, re.M).group(1).split(", ")
    assert set(rules) == {path.stem for path in (REPO / "workflow" / "rules").glob("*.smk")}
