"""Version 1 of the API: ``/api/v1/``. Resources by audience in their own modules; ``urls`` lists
them with the schema (``/api/v1/schema/``) and its reader (``/api/v1/docs/``)."""
