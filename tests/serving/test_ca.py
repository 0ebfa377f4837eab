"""`python -m scripts.serving write-ca`: the Postgres root CA back where the postgresql provider reads it,
from the stack output or, for a stack deployed before that output, from its state; on fake files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from infra.mocks import MOCK_CA_CERTIFICATE
from scripts.core.errors import LoadError
from scripts.serving import ca
from scripts.serving.__main__ import app
from tests.conftest import one

PEM = MOCK_CA_CERTIFICATE
URN = "urn:pulumi:prod::retail-data-platform::"


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """A clean checkout: no `.tls/` yet."""
    monkeypatch.setattr(ca, "ROOT", tmp_path)
    return tmp_path


def _state(*resources: dict) -> dict:
    return {"version": 3, "deployment": {"resources": list(resources)}}


PROVIDER = {
    "urn": f"{URN}retail:serving:PostgresServingAccess$pulumi:providers:postgresql::serving-provider",
    "type": "pulumi:providers:postgresql",
    "inputs": {"sslrootcert": ".tls/rdp_prod_root_ca.pem", "password": {"ciphertext": "x"}},
}
CREDENTIAL = {
    "urn": f"{URN}retail:serving:SnowflakePostgres$pulumi-python:dynamic:Resource::postgres-admin-credential",
    "type": "pulumi-python:dynamic:Resource",
    "outputs": {"ca_certificate": PEM, "password": {"ciphertext": "x"}},
}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_output_names_the_file_the_provider_reads_and_write_ca_puts_it_there(plans, project, stack, tmp_path):
    path = one(plans[stack], "serving-provider")["inputs"]["sslrootcert"]
    assert path == f".tls/rdp_{stack}_root_ca.pem"
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"postgresHost": "h", "postgresRootCa": {"path": path, "pem": PEM}}))
    written = ca.write_ca(stack, outputs_file=outputs)
    assert written == project / path and written.read_text() == PEM
    assert ca.write_ca(stack, outputs_file=outputs) == written  # again: unchanged, no error


def test_a_stack_deployed_before_the_output_is_read_from_its_state(project, tmp_path):
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(_state({"urn": "urn:…::other", "type": "aws:s3/bucketV2:BucketV2"}, PROVIDER, CREDENTIAL))
    )
    assert ca.write_ca("prod", state_file=state).read_text() == PEM
    assert (project / ".tls/rdp_prod_root_ca.pem").is_file()


def test_nothing_to_write_for_a_stack_without_postgres(project, tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(_state()))
    assert ca.write_ca("pr-7", state_file=state) is None
    assert not (project / ".tls").exists()


def test_a_state_without_the_certificate_says_what_to_do(project, tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(_state(PROVIDER)))
    with pytest.raises(LoadError, match="run `pulumi up` once"):
        ca.write_ca("prod", state_file=state)


@pytest.mark.parametrize(
    ("path", "pem"),
    [
        ("../x.pem", PEM),
        ("/etc/ssl/x.pem", PEM),
        (".tls/../../x.pem", PEM),
        (".tls/sub/x.pem", PEM),
        (".tls/x.txt", PEM),
        (".tls/x.pem", "not a certificate"),
    ],
)
def test_only_a_pem_certificate_under_tls_is_written(project, tmp_path, path, pem):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"postgresRootCa": {"path": path, "pem": pem}}))
    with pytest.raises(LoadError):
        ca.write_ca("dev", outputs_file=outputs)
    assert not list(project.rglob("*.pem"))


def test_the_command(project, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"postgresRootCa": {"path": ".tls/rdp_dev_root_ca.pem", "pem": PEM}}))
    result = CliRunner().invoke(app, ["write-ca", "--stack", "acme/dev", "--outputs", str(outputs)])
    assert result.exit_code == 0 and "wrote .tls/rdp_dev_root_ca.pem" in result.output
    outputs.write_text(json.dumps({"postgresRootCa": {"path": "../evil.pem", "pem": PEM}}))
    result = CliRunner().invoke(app, ["write-ca", "--stack", "acme/dev", "--outputs", str(outputs)])
    assert result.exit_code == 1 and "expected .tls/<name>.pem" in result.output
