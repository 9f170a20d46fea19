"""The stack's customer-managed key (CMEK): a key ring and a crypto key every data store encrypts with.

Cloud KMS never deletes a key ring or a crypto key (only key versions, after a scheduled delay),
so a fixed name would make a destroyed stack impossible to create again (409 already exists):
both are autonamed. The service agents that encrypt with the key get its encrypter/decrypter role.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.gcp.agents import agent_emails
from infra.clouds.options import child, stateful

ROTATION_SECONDS = 90 * 24 * 3600  # rotate at least every 90 days
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@dataclass(frozen=True)
class KeyUse:
    """What a component needs to encrypt with the stack's key: its id, and the grants that let the
    service agents use it (a CMEK resource created before them fails)."""

    key_id: pulumi.Input[str]
    grants: tuple[pulumi.Resource, ...]


@dataclass(frozen=True)
class KeysArgs:
    project: str
    region: str
    protect: bool  # protected and retained, with the longest destruction delay
    agents: tuple[str, ...]  # service agents that encrypt with the key (see agents.py)


class Keys(pulumi.ComponentResource):
    """The key's id (what CMEK fields take) and its ring; `grants` and `agent_emails` for the
    components that encrypt with it (they must wait for the grants)."""

    key_id: pulumi.Output[str]
    key_ring_id: pulumi.Output[str]

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:gcp:Keys", name, None, opts)
        key_ring = gcp.kms.KeyRing(f"{name}-ring", location=args.region, opts=stateful(args.protect, self))
        key = gcp.kms.CryptoKey(
            f"{name}-key",
            key_ring=key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=f"{ROTATION_SECONDS}s",
            version_template={"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protection_level": "SOFTWARE"},
            # Versions scheduled for destruction stay recoverable this long: the maximum in prod.
            destroy_scheduled_duration=f"{(120 if args.protect else 1) * 24 * 3600}s",
            opts=stateful(args.protect, self),
        )
        self.agent_emails = agent_emails(name, args.project, list(args.agents), child(self))
        self.grants = [
            gcp.kms.CryptoKeyIAMMember(
                f"{name}-{agent}-encrypter",
                crypto_key_id=key.id,
                role=ENCRYPTER,
                member=pulumi.Output.concat("serviceAccount:", email),
                opts=child(self),
            )
            for agent, email in self.agent_emails.items()
        ]
        self.use = KeyUse(key.id, tuple(self.grants))
        self.key_id = key.id
        self.key_ring_id = key_ring.id
        self.register_outputs({"key_id": self.key_id, "key_ring_id": self.key_ring_id})
