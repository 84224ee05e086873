"""Real-name authentication: face verification through the gateway and the identity it proves."""
