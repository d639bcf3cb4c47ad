#ifndef TX_CALLBACKS_H
#define TX_CALLBACKS_H
#endif
