"""``python -m rnn_book gpu-check``: parts with time limits, a report written after each, dry runs on a CPU."""
from __future__ import annotations

import json

import pytest
import torch

from rnn_book import gpu_check


def test_dry_run_of_machine_and_parity_on_the_cpu(tmp_path):
    parts = gpu_check.main(["--out", str(tmp_path), "--device", "cpu", "--parts", "machine,parity", "--small",
                            "--budget", "300"])
    assert parts["machine"]["status"] == "ok" and parts["parity"]["status"] == "ok"
    report = (tmp_path / "gpu.md").read_text()
    assert f"- torch: {torch.__version__}" in report
    assert "## The engines side by side (ok" in report
    assert "Largest gap between the engines over every case, output, state and gradient: float64: " in report
    rows = json.loads((tmp_path / "parity.json").read_text())["rows"]
    worst64 = max(r["output"] for r in rows if r["precision"] == "float64")
    assert worst64 < 1e-12
    assert "## Chapters in full mode (not run yet)" in report
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpu.md", "gpu_check.log", "parity.json"]


def test_a_part_past_its_limit_is_stopped_and_recorded(tmp_path):
    run = gpu_check.Run(tmp_path, budget=60, device="cpu")
    r = run.call("sleepy", ["sleep", "30"], limit=2)
    assert r["status"] == "stopped at its 2 s limit" and r["seconds"] < 10
    assert "===== sleepy: stopped at its 2 s limit" in (tmp_path / "gpu_check.log").read_text()
    bad = run.call("broken", ["python3", "-c", "raise SystemExit(3)"], limit=30)
    assert bad["status"] == "failed (exit code 3)"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks how the GPU tests skip where there is no GPU")
def test_without_a_gpu_the_gpu_tests_are_counted_as_skipped(tmp_path):
    parts = gpu_check.main(["--out", str(tmp_path), "--parts", "tests", "--budget", "200"])
    j = parts["tests"]["junit"]
    assert j["tests"] == j["skipped"] > 40 and j["failures"] == j["errors"] == 0
    assert f"0 passed, 0 failed, 0 errors, {j['skipped']} skipped" in (tmp_path / "gpu.md").read_text()


def test_junit_summary_lists_failures(tmp_path):
    xml = tmp_path / "j.xml"
    xml.write_text('<testsuites><testsuite tests="3" failures="1" errors="0" skipped="1" time="1.5">'
                   '<testcase name="test_a"/><testcase name="test_b"><failure message="assert 1 == 2&#10;more"/>'
                   '</testcase><testcase name="test_c"><skipped/></testcase></testsuite></testsuites>')
    s = gpu_check.junit_summary(xml)
    assert (s["tests"], s["failures"], s["skipped"], s["failed"]) == (3, 1, 1, ["test_b: assert 1 == 2"])
    assert gpu_check.junit_summary(tmp_path / "missing.xml") == {}


@pytest.mark.parametrize("args,match", [(["--parts", "tests,fly"], "--parts"), (["--budget", "0"], "--budget")])
def test_bad_options(args, match, tmp_path, capsys):
    with pytest.raises(SystemExit):
        gpu_check.main(["--out", str(tmp_path)] + args)
    assert match in capsys.readouterr().err
