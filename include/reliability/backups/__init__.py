"""The contract that backup_verify, checksum_validation and restore_test share: the manifest written
next to each dump, the order-independent table digest, the PostgreSQL client tools and their stderr,
and the recorded dumps in the results store. Imports no Airflow and no job package."""
