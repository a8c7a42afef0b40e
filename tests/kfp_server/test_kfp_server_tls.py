"""HTTPS: the server behind a certificate from a throw-away CA."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import sys
import warnings
from pathlib import Path

import httpx
import pytest

from af2kfp.bridge.kfp_server import start_server, start_server_process

HEALTHZ = "/apis/v2beta1/healthz"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1, server key), PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def certificate(subject: str, public_key: object, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "af2kfp test CA")]))
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(ca_key, hashes.SHA256())

    folder = tmp_path_factory.mktemp("tls")
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(
        certificate("af2kfp test CA", ca_key.public_key(), ca=True).public_bytes(serialization.Encoding.PEM)
    )
    paths[1].write_bytes(
        certificate("127.0.0.1", key.public_key(), ca=False).public_bytes(serialization.Encoding.PEM)
    )
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def test_https_in_process(certs: tuple[Path, Path, Path]) -> None:
    ca, cert, key = certs
    with start_server(tls_cert=cert, tls_key=key) as server:
        assert server.url.startswith("https://127.0.0.1:")
        with pytest.raises(httpx.ConnectError):  # an unknown CA is refused by default
            httpx.get(server.url + HEALTHZ)
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port gets nothing useful...
            httpx.get(server.url.replace("https", "http") + HEALTHZ, timeout=2)
        assert httpx.get(server.url + HEALTHZ, verify=str(ca)).status_code == 200  # ...and harms nothing
        import kfp

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            client = kfp.Client(host=server.url, ssl_ca_cert=str(ca))
        assert client.create_experiment("over-tls").display_name == "over-tls"


def test_https_from_the_command_line(certs: tuple[Path, Path, Path]) -> None:
    ca, cert, key = certs
    with start_server_process(args=["--tls-cert", str(cert), "--tls-key", str(key)]) as server:
        assert server.url.startswith("https://")
        assert httpx.get(server.url + HEALTHZ, verify=str(ca)).status_code == 200
    missing = subprocess.run(
        [sys.executable, "-m", "af2kfp.bridge.kfp_server", "--tls-cert", str(cert.with_name("none.pem"))],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode == 2 and "--tls-cert" in missing.stderr and "no such file" in missing.stderr
    wrong = subprocess.run(
        [
            sys.executable,
            "-m",
            "af2kfp.bridge.kfp_server",
            "--port",
            "0",
            "--tls-cert",
            str(ca),
            "--tls-key",
            str(key),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert wrong.returncode == 2 and "cannot use it" in wrong.stderr and "Traceback" not in wrong.stderr
