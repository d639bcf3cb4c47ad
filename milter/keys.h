#ifndef TX_KEYS_H
#define TX_KEYS_H
#endif
