"""The integration surface (issue 14): the versioned REST API under ``/api/``.

``web.api.errors`` turns every refusal (a domain error, a validation error, a permission or
authentication failure, a throttle) into the one documented error shape; ``web.api.pagination``
pages every list by cursor. Each version is a package (``web.api.v1``) whose endpoints call the
same services as the screens: a serializer validates shape only.
"""
