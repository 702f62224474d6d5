"""``blake2b`` for the check path, without hashlib's start-up cost.

Importing :mod:`hashlib` loads OpenSSL's hash module (about 2 ms of a one-report process). The catalog cache's key
and the checklist wordings' fingerprints use ``blake2b``, which hashlib itself takes from the C module ``_blake2``:
it is imported from there, and from hashlib only where that module does not exist (another Python implementation).
"""

try:
    from _blake2 import blake2b
except ImportError:  # another Python implementation
    from hashlib import blake2b

__all__ = ["blake2b"]
