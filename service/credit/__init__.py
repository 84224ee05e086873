"""Credit authorisation: consents, admittance checks, deposits and what the platform reports."""
