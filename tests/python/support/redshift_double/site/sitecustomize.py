"""Installs the Redshift test double in every Python process started with
SPARKIFY_REDSHIFT_DOUBLE_DSN set (the tests set it for the dbt they run); a no-op otherwise."""

import os

if os.environ.get("SPARKIFY_REDSHIFT_DOUBLE_DSN"):
    import redshift_double

    redshift_double.install()
