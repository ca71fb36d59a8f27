"""ECR host names: which registries are Amazon ECR, and their account and region."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PRIVATE_HOST", "PUBLIC_HOSTS", "PUBLIC_REGION", "EcrRegistry", "parse_host"]

#: Private ECR hosts: account, optional FIPS, region, partition domain (the forms
#: amazon-ecr-credential-helper accepts; ``dkr-ecr`` is the dual-stack name).
PRIVATE_HOST = re.compile(
    r"^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com(\.cn)?|amazonaws\.eu|on\.aws)$"
)
#: ECR Public; its API (``ecr-public``) lives only in us-east-1.
PUBLIC_HOSTS = frozenset({"public.ecr.aws", "ecr-public.aws.com"})
PUBLIC_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class EcrRegistry:
    """An ECR host, decoded: ``account`` (the registry id) is None for ECR Public."""

    host: str
    account: str | None
    region: str
    fips: bool = False

    @property
    def public(self) -> bool:
        return self.account is None

    @property
    def cache_key(self) -> str:
        # Both public host names share one token; private tokens are per host.
        return "ecr-public" if self.public else self.host


def parse_host(registry: str) -> EcrRegistry | None:
    """The ECR registry ``registry`` names, or None when it is not an ECR host."""
    host = registry.lower()
    if host in PUBLIC_HOSTS:
        return EcrRegistry(host, None, PUBLIC_REGION)
    match = PRIVATE_HOST.match(host)
    if match is None:
        return None
    return EcrRegistry(host, match.group(1), match.group(3), fips=match.group(2) is not None)
