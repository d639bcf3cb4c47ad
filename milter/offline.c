/* offline.c - placeholder, being written */
