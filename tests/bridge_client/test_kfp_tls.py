"""TLS against a loopback HTTPS server whose certificate is signed by a throw-away CA."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest

from af2kfp.bridge.kfp import KfpClient, KfpConfig, KfpConnectionError, RetryPolicy
from tests.bridge_client.fake_kfp import FakeKfp


def _make_ca_and_server_cert(folder):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject, issuer, public_key, signing_key, *, ca):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("test-ca", "test-ca", ca_key.public_key(), ca_key, ca=True)
    server_cert = build("127.0.0.1", "test-ca", server_key.public_key(), ca_key, ca=False)
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_path, cert_path, key_path


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return _make_ca_and_server_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_fake(certs):
    _, cert_path, key_path = certs
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = FakeKfp().start(tls=context)
    yield server
    server.stop()


def test_ca_bundle_verifies_the_server(https_fake, certs):
    with KfpClient(KfpConfig(host=https_fake.url, verify=str(certs[0]))) as client:
        assert client.healthz()["multi_user"] is False


def test_unknown_ca_fails_at_once_with_a_hint(https_fake):
    config = KfpConfig(host=https_fake.url, retry=RetryPolicy(max_attempts=4, initial_backoff=0.01))
    with KfpClient(config) as client, pytest.raises(KfpConnectionError) as info:
        client.healthz()
    assert not info.value.retriable and info.value.attempts == 1
    assert "TLS certificate verification failed" in info.value.message and "CA bundle" in info.value.message


def test_verify_off_connects_with_a_warning(https_fake):
    with pytest.warns(UserWarning, match="verification is OFF"):
        client = KfpClient(KfpConfig(host=https_fake.url, verify=False))
    with client:
        assert client.healthz()["pipeline_store"] == "database"
