/* sign.c - placeholder, being written */
