/* store_mem.c - being written */
