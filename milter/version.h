#ifndef TX_VERSION_H
#define TX_VERSION_H
#endif
