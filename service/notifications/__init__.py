"""The gateway's asynchronous notifications: verified, de-duplicated, routed, acknowledged."""
