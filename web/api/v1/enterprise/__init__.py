"""The enterprise resources: an enterprise user's own enterprises' data only, scoped exactly as the
portal scopes it (``credit.enterprises.selectors.enterprises_for_user``, narrowed to the token's
enterprise when the token names one). Another enterprise's object is a 404, never a 403."""
