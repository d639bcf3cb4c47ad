/* addr_norm.c - being written */
