/* callbacks.c - placeholder, being written */
