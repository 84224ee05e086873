"""marshmallow schemas: one module per capability, plus common.py. Shape only, no queries."""
