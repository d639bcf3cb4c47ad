/* hdr.c - placeholder, being written */
