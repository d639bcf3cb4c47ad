#ifndef TX_HDR_H
#define TX_HDR_H
#endif
