"""
Serializers of the covenants API, by resource: agreements with their roles and amendments,
covenants and their terms, statements and submissions, results and waivers. They shape data
and check input; the rules live in the services, and every row they name comes from the
requesting user's scope (:class:`portal.api.ScopedPrimaryKeyRelatedField`). Money is a string
of decimals, dates ISO.
"""
