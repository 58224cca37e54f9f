"""RQ jobs and the worker entry: outbox relay to Socket.IO, deadline sweeps."""
