"""The open-gateway client: RSA2 signing, calls, response and notification checks."""
