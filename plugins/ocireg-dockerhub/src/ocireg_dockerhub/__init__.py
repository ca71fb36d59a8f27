"""ocireg-dockerhub: Docker Hub's own API for tag deletes and tag listings.

The registry API of Docker Hub refuses ``DELETE``; this plugin offers
:class:`~ocireg_dockerhub.api.DockerHubAPI` (``tag_delete`` and ``listing`` via
``"hub-api"``) through the ``ocireg_registry_api`` hook. Installed, it registers itself
through the ``ocireg`` entry-point group under the name ``dockerhub``.
"""

from __future__ import annotations

from .provider import API_URL_ENV, DockerHub

__version__ = "0.1.0"

#: The instance the ``ocireg`` entry point registers.
plugin = DockerHub()

__all__ = ["API_URL_ENV", "DockerHub", "__version__", "plugin"]
