"""orgconnect: connect enterprise conferencing accounts and calendar tenants to Organizational Units.

Layering (see docs/architecture.md): ``functions/*/app.py`` -> ``web`` -> ``domain`` <- ``store``.
``domain`` is pure logic (no boto3, no httpx); ``store`` is the only boto3 user.
"""
