"""SSO is configured by the environment: off by default, refused when half configured."""

from tests.test_settings import _manage

SHOW_CONFIG = (
    "from mlrange.sso.config import sso_config; c = sso_config(); "
    "print(c and (c.issuer, c.discovery_url, c.scopes, c.allowed_email_domains, c.display_name))"
)


def test_sso_is_off_unless_configured(tmp_path):
    result = _manage("shell", "-c", SHOW_CONFIG, env={"DEBUG": "1"}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "None"


def test_sso_reads_its_settings_from_the_environment(tmp_path):
    env = {
        "DEBUG": "1",
        "SSO_OIDC_ISSUER": "https://idp.example/realms/acme",
        "SSO_OIDC_CLIENT_ID": "mlrange",
        "SSO_OIDC_SCOPES": "openid,email",
        "SSO_ALLOWED_EMAIL_DOMAINS": "Acme.example,@staff.acme.example",
        "SSO_DISPLAY_NAME": "ACME",
    }
    result = _manage("shell", "-c", SHOW_CONFIG, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(
        (
            "https://idp.example/realms/acme",
            "https://idp.example/realms/acme/.well-known/openid-configuration",
            ("openid", "email"),
            ("acme.example", "staff.acme.example"),
            "ACME",
        )
    )


def test_half_configured_sso_refuses_to_start(tmp_path):
    result = _manage("check", env={"DEBUG": "1", "SSO_OIDC_ISSUER": "https://idp.example"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Single sign-on needs both SSO_OIDC_ISSUER and SSO_OIDC_CLIENT_ID" in result.stderr
