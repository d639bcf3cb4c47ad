/* rl_policy.c - being written */
