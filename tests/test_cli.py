"""The command line, through typer's test runner."""

import json

from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app

runner = CliRunner()


def test_list_prints_every_loss():
    out = runner.invoke(app, ["list"], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    for name in ll.names():
        assert name in out.output
    assert "pinball -> quantile" in out.output


def test_show_prints_the_card():
    out = runner.invoke(app, ["show", "huber"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    for text in ("Huber(delta=1.0)", "clip(e, -delta, delta)", "torch huber_loss", "Huber, Robust"):
        assert text in out.output


def test_unknown_name_exits_2_with_a_suggestion():
    out = runner.invoke(app, ["show", "hubr"])
    assert out.exit_code == 2 and "did you mean 'huber'" in out.output


def test_verify_selected_losses_and_json(tmp_path):
    path = tmp_path / "v.json"
    out = runner.invoke(app, ["verify", "mse", "focal", "--cases", "12", "--json", str(path)],
                        env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "all 2 losses agree" in out.output
    data = json.loads(path.read_text())
    assert data["ok"] and [r["name"] for r in data["rows"]] == ["mse", "focal"]
    assert all(r["value_error"] <= 1e-10 for r in data["rows"])


def test_verify_exits_1_on_a_failure(monkeypatch):
    cls = ll.loss_class("mae")
    original = cls.value_and_gradient

    def wrong_sign(self, *inputs, **kwargs):
        v, g = original(self, *inputs, **kwargs)
        return v, -g

    monkeypatch.setattr(cls, "value_and_gradient", wrong_sign)
    out = runner.invoke(app, ["verify", "mae", "--cases", "3"], env={"COLUMNS": "200"})
    assert out.exit_code == 1 and "FAIL" in out.output


def test_show_names_the_inputs_of_a_several_input_loss():
    out = runner.invoke(app, ["show", "ctc"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    assert "log_probs, targets, input_lengths, target_lengths (differentiable: log_probs)" in out.output
    assert "targets: integers; input_lengths: integers; target_lengths: integers" in out.output

