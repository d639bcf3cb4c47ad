/* store_failover.c - being written */
