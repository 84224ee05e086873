"""Login by auth code, access and refresh tokens, JWKS, merchant clients, route decorators."""
