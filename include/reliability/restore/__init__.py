"""Weekly restore test: restore the newest verified backup into a scratch database and prove it equals the dump."""
