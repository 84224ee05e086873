"""Fixtures of the unit tests: a complete production configuration."""

from __future__ import annotations

import pytest

from service.gateway import signing
from service.security.keyfiles import new_keys_document, write_keys


@pytest.fixture
def production_env(tmp_path):
    """Every variable production needs, with fresh keys: what loads, as tests take parts away."""
    keys_file = tmp_path / "keys.json"
    write_keys(keys_file, new_keys_document(dev=False))
    return {
        "MINIFIN_PROFILE": "production",
        "MINIFIN_INSTANCE_DIR": str(tmp_path),
        "MINIFIN_DATABASE_URL": "postgresql+psycopg://minifin@db/minifin",
        "MINIFIN_GATEWAY_URL": "https://openapi.alipay.com/gateway.do",
        "MINIFIN_APP_ID": "2021004100000000",
        "MINIFIN_APP_PRIVATE_KEY": signing.private_key_pem(signing.generate_private_key()),
        "MINIFIN_PLATFORM_PUBLIC_KEY": signing.public_key_base64(signing.generate_private_key()),
        "MINIFIN_KEYS_FILE": str(keys_file),
        "MINIFIN_RATE_LIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "MINIFIN_SELLER_ID": "2088102177000001",
    }
