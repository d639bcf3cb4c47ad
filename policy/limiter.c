/* limiter.c - being written */
