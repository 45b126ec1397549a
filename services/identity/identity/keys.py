"""The identity service's signing keys: a private JWK set in a secret file.

The file holds one or more ES256 keys; the first signs new tokens and every key's public
half is published at ``/.well-known/jwks.json``, so a key can be rotated by putting a new
one first and removing the old one once the last token it signed has expired.
A missing file is generated (mode 600) on first start: that is what ``make up`` relies on
to keep the key in ``.run/``, never in the repository.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from joserfc.jwk import ECKey, KeySet

from weiquan_shared.logging import get_logger

log = get_logger(__name__)

ALGORITHM = "ES256"


class SigningKeys:
    def __init__(self, keys: list[ECKey]) -> None:
        if not keys:
            raise ValueError("the signing key set is empty")
        self.keys = keys

    @property
    def active(self) -> ECKey:
        return self.keys[0]

    def private_set(self) -> KeySet:
        return KeySet(list(self.keys))

    def public_jwks(self) -> dict[str, list[dict[str, object]]]:
        return {"keys": [dict(key.as_dict(private=False)) for key in self.keys]}

    def public_set(self) -> KeySet:
        return KeySet.import_key_set(self.public_jwks())  # type: ignore[arg-type]

    @classmethod
    def generate(cls) -> SigningKeys:
        kid = f"wq-{secrets.token_hex(6)}"
        key = ECKey.generate_key(
            "P-256", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}, private=True
        )
        return cls([key])

    def private_jwks(self) -> dict[str, list[dict[str, object]]]:
        return {"keys": [dict(key.as_dict(private=True)) for key in self.keys]}

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKeys:
        if not path.exists():
            created = cls.generate()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(created.private_jwks(), out)
            # link, not rename: a second instance racing here keeps the first file.
            try:
                os.link(tmp, path)
                log.warning("generated a new signing key", path=str(path), kid=created.active.kid)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        data = json.loads(path.read_text())
        keys = [ECKey.import_key(entry) for entry in data["keys"]]
        for key in keys:
            if not key.kid:
                raise ValueError(f"every key in {path} needs a kid")
        return cls(keys)
