"""The PostgreSQL probe target's parts, one module per job; `probes.postgres_target` composes them.

session     the two logins' connections, the failure phase, error-text scrubbing
connection  reachability, TLS and the certificate, credentials, the write probe
rls         row-level security proofs (bypass, forced RLS, tenant session, A/B matrix)
schema      the runbook and kind-to-table map, the actor claims
copy_in     binary COPY of the snapshot into a partition of its own (or the parent)
readback    the app login's read-back and canonical checksum
replay      the replay step: COPY, read back, matrix
drill       the rollback checkpoint and drill
"""
