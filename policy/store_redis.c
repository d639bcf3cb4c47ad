/* store_redis.c - being written */
