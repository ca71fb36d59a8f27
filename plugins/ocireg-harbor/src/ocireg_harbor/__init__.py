"""ocireg-harbor: Harbor's v2.0 API for tag deletes and tag listings.

Offers :class:`~ocireg_harbor.api.HarborAPI` (``tag_delete`` and ``listing`` via
``"harbor-api"``) through the ``ocireg_registry_api`` hook, for the hosts named in
``$OCIREG_HARBOR_HOSTS``. Installed, it registers itself through the ``ocireg`` entry-point
group under the name ``harbor``.
"""

from __future__ import annotations

from .provider import HOSTS_ENV, Harbor, configured_hosts

__version__ = "0.1.0"

#: The instance the ``ocireg`` entry point registers.
plugin = Harbor()

__all__ = ["HOSTS_ENV", "Harbor", "__version__", "configured_hosts", "plugin"]
