"""The county record store: committees' masked 调解案例 on PostgreSQL, synced up and analysed."""
