"""Due-work dispatch: the worker loop, and (as capabilities need them) the outbox and due rows."""
