"""The command line, through typer's test runner."""

import json

from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app

runner = CliRunner()


def test_list_prints_every_loss():
    out = runner.invoke(app, ["list", "--format", "table"], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    for name in ll.names():
        assert name in out.output
    assert "pinball -> quantile" in out.output


def test_piped_output_keeps_every_name_and_number_whole():
    # CliRunner is not a terminal: as `losslab list | cat`, records are one line per loss
    out = runner.invoke(app, ["list"], env={"COLUMNS": "40"})
    assert out.exit_code == 0, out.output
    first = [line.split("\t")[0] for line in out.output.splitlines()[1:]]
    assert first == ll.names()
    out = runner.invoke(app, ["verify", "mse", "huber", "asymmetric_huber", "--cases", "2"],
                        env={"COLUMNS": "40"})
    assert out.exit_code == 0, out.output
    rows = [line.split("\t") for line in out.output.splitlines()[1:4]]
    assert [r[0] for r in rows] == ["mse", "huber", "asymmetric_huber"]
    for r in rows:
        for cell in r[3:7]:
            float(cell)  # every error is a whole number such as 2.1e-16


def test_csv_and_json_formats_parse():
    import csv
    import io
    import json

    out = runner.invoke(app, ["list", "--format", "csv"])
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[0][0] == "name" and [r[0] for r in rows[1:]] == ll.names()
    out = runner.invoke(app, ["list", "--format", "json"])
    assert [r["name"] for r in json.loads(out.output)] == ll.names()
    out = runner.invoke(app, ["verify", "mse", "--cases", "2", "--format", "json"])
    assert out.exit_code == 0 and json.loads(out.output)[0]["result"] == "ok"
    out = runner.invoke(app, ["list", "--format", "xml"])
    assert out.exit_code == 2 and "--format must be table, records, csv or json" in out.output


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



def test_help_screens_show_no_type_noise():
    for cmd in ([], ["list"], ["verify"], ["lab"], ["landscape"], ["advise"], ["report"]):
        out = runner.invoke(app, cmd + ["--help"])
        assert out.exit_code == 0 and "<bool>" not in out.output, out.output


def test_lab_formats_and_summary(tmp_path):
    import json

    out = runner.invoke(app, ["lab", "optimizers", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert len(out.output.splitlines()) < 120 and "more rows of" in out.output
    data = runner.invoke(app, ["lab", "optimizers", "--out", str(tmp_path), "--format", "json"])
    parsed = json.loads(data.output)
    assert parsed["lab"] == "optimizers" and sum(len(v) for v in parsed["tables"].values()) > 12


def test_advise_formats():
    # csv: one record per candidate and family, plain numbers (parsed back to the JSON's);
    # json: everything; records (a pipe): the findings as whole lines, the table tab-separated
    import csv
    import io

    args = ["advise", "--demo", "fraud", "--cv", "3", "--repeats", "1", "--models", "linear"]
    runner = CliRunner()
    out = runner.invoke(app, args + ["--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    data = json.loads(runner.invoke(app, args + ["--format", "json"]).output)
    assert [r["candidate"] for r in rows] == [r["candidate"] for r in data["table"]]
    assert [float(r["mean"]) for r in rows] == [r["metric_mean"] for r in data["table"]]
    assert all(r["metric"] == "average_precision" for r in rows)
    piped = runner.invoke(app, args)  # not a terminal: records
    assert piped.exit_code == 0
    lines = piped.output.splitlines()
    header = next(line for line in lines if line.startswith("family\t"))
    table = [line for line in lines if line.count("\t") == header.count("\t")]
    assert len(table) == 1 + len(rows)
    assert any(line.startswith("recommendation: ") for line in lines)
    assert "[bold]" not in piped.output
    bad = runner.invoke(app, args + ["--format", "xml"])
    assert bad.exit_code == 2 and "--format must be table, records, csv or json" in bad.output
