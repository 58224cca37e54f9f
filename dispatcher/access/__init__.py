"""Who is acting and what they may see of people: roles and principals, accounts and API tokens,
passwords and TOTP, the roster of demo/imported accounts, callers' personal data (masking, redaction)
and the hash-chained audit trail.

May import: `dispatcher.store`, `dispatcher.errors`, `dispatcher.settings`. Not `cases`: what a role may do
to a case is decided in `dispatcher.cases.scope`.
"""
