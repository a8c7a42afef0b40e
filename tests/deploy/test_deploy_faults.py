"""Deploy against a KFP that fails: an answer lost after KFP applied a create never makes a
second pipeline, version or recurring run; a refused DAG does not stop the others."""

from __future__ import annotations

from .conftest import af2kfp, everything


def test_answers_lost_after_the_creates_make_nothing_twice(capsys, samples_out, server, kfp, tmp_path):
    control = server.control()
    for path in ("/apis/v2beta1/pipelines", "/apis/v2beta1/pipelines/upload_version", "/apis/v2beta1/recurringruns"):
        control.fault("status", status=503, path=path, method="POST", after=True)  # applied, then the answer fails
    result = af2kfp(capsys, "deploy", samples_out, "--host", server.url, "--state", tmp_path / "s.yaml",
                    "--only", "docker_sales_etl")
    assert result.code == 0, result.out + result.err
    assert control.stats().get("fault status", 0) == 3
    held = everything(kfp)
    assert held["pipelines"].keys() == {"docker-sales-etl"}
    assert [len(v) for v in held["versions"].values()] == [1]
    assert [name for name, _, _ in held["recurring_runs"].values()] == ["docker_sales_etl"]


def test_a_dag_kfp_refuses_fails_alone(capsys, samples_out, server, kfp, tmp_path):
    control = server.control()
    control.fault("status", status=400, path="/apis/v2beta1/pipelines", method="POST")  # the first pipeline only
    result = af2kfp(capsys, "deploy", samples_out, "--host", server.url, "--state", tmp_path / "s.yaml",
                    "--only", "docker_sales_etl", "k8s_train_recommender")
    assert result.code == 1
    failed = [line for line in result.out.splitlines() if line.split()[1:2] == ["failed"]]
    assert len(failed) == 1 and "HTTP 400" in failed[0]
    assert len(everything(kfp)["pipelines"]) == 1
    assert af2kfp(capsys, "deploy", samples_out, "--host", server.url, "--state", tmp_path / "s.yaml",
                  "--only", "docker_sales_etl", "k8s_train_recommender").code == 0
    assert len(everything(kfp)["pipelines"]) == 2
