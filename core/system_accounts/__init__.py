"""System accounts of other authorities (issue 14): an OAuth2 client (django-oauth-toolkit's
``Application``, client-credentials grant) bound to the authority it speaks for, the scopes it may
be granted, and a service-account user to which every write it makes is attributed."""
