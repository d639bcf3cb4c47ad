/* netlist.c - placeholder, being written */
