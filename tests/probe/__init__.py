"""A tiny Django app the test suite installs (``DJANGO_EXTRA_APPS``) in itself and its workers.

Its subscribers record what they see, so tests on real worker processes can check the
order, the count and the failures of deliveries without touching the domain apps.
"""
