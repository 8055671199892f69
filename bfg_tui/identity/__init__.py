"""Proven identity: SSH keys, SSHSIG signatures and the roster that maps actors to keys.

Follows git's SSH signing convention: OpenSSH's SSHSIG format (`ssh-keygen -Y sign`),
namespace `bfg-tui`, allowed_signers files. Nothing here imports Textual or the store.
"""

NAMESPACE = "bfg-tui"
