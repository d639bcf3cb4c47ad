/* version.c - placeholder, being written */
