#ifndef TX_DAEMON_H
#define TX_DAEMON_H
#endif
