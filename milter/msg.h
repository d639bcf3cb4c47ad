#ifndef TX_MSG_H
#define TX_MSG_H
#endif
