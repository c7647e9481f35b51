"""Decision records: content digests, records, the decision log, signatures and audit."""
