#!/usr/bin/env bash
# Wheels that an offline CUDA machine needs to run the chapters, for CPython 3.12 on manylinux x86_64.
#
# Such a machine usually has torch, numpy, matplotlib, pytest, pyyaml and markdown-it-py, but no Jupyter:
# this kit adds the notebook machinery (jupytext, nbclient, ipykernel, ipywidgets, nbval), its
# dependencies, eSpeak NG for the speech chapter, sacreBLEU for translation, a CJK font for captions -- one pinned version each, no torch.
#
#     scripts/gpu_wheels.sh [DIR]      # default DIR: .whl
#
# Install there without an index:
#     python3 -m pip install --no-index --no-deps --target /tmp/site DIR/*.whl && export PYTHONPATH=/tmp/site
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-.whl}"
mkdir -p "$dest"

WHEELS=(
  jupytext==1.19.6 mdit-py-plugins==0.7.0
  nbformat==5.11.1 fastjsonschema==2.22.3 jsonschema==4.26.0 jsonschema-specifications==2025.9.1
  referencing==0.37.0 rpds-py==2026.9.1
  nbclient==0.11.0 jupyter-client==8.10.0 jupyter-core==5.9.1 platformdirs==4.14.8 traitlets==5.16.1
  pyzmq==27.3.0 tornado==6.6.1
  ipykernel==7.4.0 comm==0.2.3 debugpy==1.8.22 matplotlib-inline==0.2.2 nest-asyncio2==1.7.4
  ipython==9.18.1 ipython-pygments-lexers==1.1.1 jedi==0.20.1 parso==0.8.7 pexpect==4.9.0 ptyprocess==0.7.0
  prompt-toolkit==3.0.53 wcwidth==0.9.4 stack-data==0.6.3 executing==2.3.0 asttokens==3.0.2 pure-eval==0.2.4
  ipywidgets==8.1.9 jupyterlab-widgets==3.0.17 widgetsnbextension==4.0.16
  nbval==0.11.0
  espeakng-loader==0.2.4
  sacrebleu==2.6.0 portalocker==4.4.2 regex==2026.11.19 tabulate==0.10.0 colorama==0.4.6 lxml==6.1.3
  pylopdf-fonts-zh-cn==0.1.1
)

python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform manylinux_2_24_x86_64 \
  --platform manylinux_2_31_x86_64 --platform manylinux_2_34_x86_64 --platform manylinux_2_35_x86_64 \
  -d "$dest" "${WHEELS[@]}"

n=$(ls "$dest"/*.whl | wc -l)
echo "$n wheels, $(du -sh "$dest" | cut -f1) in $dest"
[ "$n" -eq "${#WHEELS[@]}" ] || { echo "expected ${#WHEELS[@]} wheels, one per pin" >&2; exit 1; }

# Every dependency of every wheel (for CPython 3.12 on Linux) is in the kit or expected on the machine.
python3 - "$dest" <<'PY'
import re, sys, zipfile
from pathlib import Path
from packaging.markers import Marker
from packaging.requirements import Requirement

EXPECTED = {"attrs", "coverage", "markdown-it-py", "numpy", "matplotlib", "packaging", "pygments", "pytest",
            "python-dateutil", "psutil", "pyyaml", "typing-extensions", "tqdm", "torch", "setuptools", "six"}
env = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux", "os_name": "posix",
       "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
       "platform_python_implementation": "CPython", "extra": ""}
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
kit, needs = set(), {}
for whl in sorted(Path(sys.argv[1]).glob("*.whl")):
    with zipfile.ZipFile(whl) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode().replace("\r\n", "\n")
    name = norm(re.search(r"^Name: (.+)$", meta, re.M).group(1).strip())
    if name in kit:
        sys.exit(f"two versions of {name} in the kit")
    kit.add(name)
    for line in re.findall(r"^Requires-Dist: (.+)$", meta, re.M):
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            needs.setdefault(norm(req.name), set()).add(name)
missing = {n: by for n, by in needs.items() if n not in kit and n not in EXPECTED}
if missing:
    sys.exit("missing from the kit: " + "; ".join(f"{n} (needed by {', '.join(sorted(b))})" for n, b in missing.items()))
print(f"dependencies closed: {len(kit)} wheels; expected on the machine: {', '.join(sorted(set(needs) - kit))}")
PY
