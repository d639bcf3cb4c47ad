#ifndef TX_SIGN_H
#define TX_SIGN_H
#endif
