#ifndef TX_OFFLINE_H
#define TX_OFFLINE_H
#endif
