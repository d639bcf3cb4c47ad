#ifndef TX_SNAPSHOT_H
#define TX_SNAPSHOT_H
#endif
