"""Settings: profiles, validation, and what production refuses."""

from __future__ import annotations

import pytest

from config import ConfigError, load_settings
from service.gateway import signing
from service.security.keyfiles import new_keys_document, write_keys


def test_a_complete_production_configuration_loads(production_env):
    settings = load_settings(production_env)
    assert settings.is_production
    assert settings.access_token_ttl == 900
    assert settings.webhook_allow_private_networks is False  # loopback allowed only in dev/test


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"MINIFIN_APP_PRIVATE_KEY": None}, "MINIFIN_APP_PRIVATE_KEY"),
        ({"MINIFIN_PLATFORM_PUBLIC_KEY": None}, "MINIFIN_PLATFORM_PUBLIC_KEY"),
        ({"MINIFIN_GATEWAY_URL": "http://127.0.0.1:5001/gateway.do"}, "MINIFIN_GATEWAY_URL"),
        ({"MINIFIN_GATEWAY_URL": None}, "MINIFIN_GATEWAY_URL"),
        ({"MINIFIN_APP_ID": None}, "MINIFIN_APP_ID"),
        ({"MINIFIN_APP_PRIVATE_KEY": "garbage"}, "MINIFIN_APP_PRIVATE_KEY"),
        ({"MINIFIN_KEYS_FILE": "/nonexistent/keys.json"}, "MINIFIN_KEYS_FILE"),
        ({"MINIFIN_ACCESS_TOKEN_TTL": "5"}, "MINIFIN_ACCESS_TOKEN_TTL"),
        ({"MINIFIN_DATABASE_URL": "mysql://x"}, "MINIFIN_DATABASE_URL"),
        ({"MINIFIN_SELLER_ID": None}, "MINIFIN_SELLER_ID"),
        ({"MINIFIN_SELLER_ID": "12345"}, "MINIFIN_SELLER_ID"),
        (
            {"MINIFIN_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"},
            "MINIFIN_WEBHOOK_ALLOW_PRIVATE_NETWORKS",
        ),
    ],
)
def test_production_refuses_with_one_line_naming_the_variable(production_env, change, variable):
    env = {**production_env, **{k: v for k, v in change.items() if v is not None}}
    for key in [k for k, v in change.items() if v is None]:
        env[key] = ""
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env)
    message = str(excinfo.value)
    assert message.startswith(variable + ":")
    assert "\n" not in message


def test_production_refuses_the_dev_app_key(production_env):
    env = {**production_env}
    env["MINIFIN_APP_PRIVATE_KEY"] = signing.private_key_pem(
        signing.generate_private_key(), dev=True
    )
    with pytest.raises(ConfigError, match=r"^MINIFIN_APP_PRIVATE_KEY: is a development key"):
        load_settings(env)


def test_production_refuses_dev_keys_files(production_env, tmp_path):
    dev_keys = tmp_path / "dev-keys.json"
    write_keys(dev_keys, new_keys_document(dev=True))
    with pytest.raises(ConfigError, match=r"^MINIFIN_KEYS_FILE: holds development keys"):
        load_settings({**production_env, "MINIFIN_KEYS_FILE": str(dev_keys)})


def test_keys_can_be_given_as_files(production_env, tmp_path):
    key_file = tmp_path / "app.pem"
    key_file.write_text(production_env["MINIFIN_APP_PRIVATE_KEY"])
    env = {
        **production_env,
        "MINIFIN_APP_PRIVATE_KEY": "",
        "MINIFIN_APP_PRIVATE_KEY_FILE": str(key_file),
    }

    assert load_settings(env).app_private_key == key_file.read_text()


def test_an_unknown_profile_is_refused():
    with pytest.raises(ConfigError, match=r"^MINIFIN_PROFILE:"):
        load_settings({"MINIFIN_PROFILE": "staging"})


def test_dev_defaults_need_nothing_configured(tmp_path):
    settings = load_settings({"MINIFIN_PROFILE": "dev", "MINIFIN_INSTANCE_DIR": str(tmp_path)})
    assert settings.uses_sqlite
    assert settings.gateway_url == "http://127.0.0.1:5001/gateway.do"
    assert str(tmp_path) in settings.database_url


def test_the_login_page_is_the_platforms_in_production_and_the_gateways_host_otherwise(
    production_env, monkeypatch
):
    for name in ("MINIFIN_AUTHORIZE_URL", "MINIFIN_GATEWAY_URL", "MINIFIN_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    production = load_settings(production_env)
    dev = load_settings(
        {"MINIFIN_PROFILE": "dev", "MINIFIN_GATEWAY_URL": "http://127.0.0.1:5001/gateway.do"}
    )

    assert (
        production.authorize_page_url == "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm"
    )
    assert dev.authorize_page_url == "http://127.0.0.1:5001/oauth2/publicAppAuthorize.htm"


CERTIFICATE_FILES = {
    "MINIFIN_APP_CERT": "-----BEGIN CERTIFICATE-----\napp\n-----END CERTIFICATE-----\n",
    "MINIFIN_PLATFORM_CERT": "-----BEGIN CERTIFICATE-----\nplatform\n-----END CERTIFICATE-----\n",
    "MINIFIN_PLATFORM_ROOT_CERT": "-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n",
}


def test_production_in_certificate_mode_loads_without_the_platform_public_key(production_env):
    env = {**production_env, **CERTIFICATE_FILES, "MINIFIN_PLATFORM_PUBLIC_KEY": ""}

    settings = load_settings(env)

    assert settings.app_cert == CERTIFICATE_FILES["MINIFIN_APP_CERT"]
    assert "BEGIN CERTIFICATE" not in repr(settings)


@pytest.mark.parametrize("left_out", sorted(CERTIFICATE_FILES))
def test_production_refuses_half_a_certificate_configuration(production_env, left_out):
    env = {**production_env, **CERTIFICATE_FILES, left_out: "", "MINIFIN_PLATFORM_PUBLIC_KEY": ""}

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env)

    assert str(excinfo.value).startswith(f"{left_out}: required in certificate mode")
    assert "\n" not in str(excinfo.value)


def test_production_refuses_a_public_key_beside_the_certificates(production_env):
    with pytest.raises(ConfigError) as excinfo:
        load_settings({**production_env, **CERTIFICATE_FILES})

    assert str(excinfo.value).startswith("MINIFIN_PLATFORM_PUBLIC_KEY: set in certificate mode")


def test_certificate_files_can_be_given_as_files(production_env, tmp_path):
    env = {**production_env, "MINIFIN_PLATFORM_PUBLIC_KEY": ""}
    for variable, pem in CERTIFICATE_FILES.items():
        path = tmp_path / f"{variable}.crt"
        path.write_text(pem)
        env[f"{variable}_FILE"] = str(path)

    assert load_settings(env).platform_root_cert == CERTIFICATE_FILES["MINIFIN_PLATFORM_ROOT_CERT"]
