/* keytable.c - placeholder, being written */
