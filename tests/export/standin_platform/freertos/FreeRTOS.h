// Test stand-in for ESP-IDF's FreeRTOS header: what edgecnn's app_main uses.
#ifndef EDGECNN_TEST_STANDIN_FREERTOS_H_
#define EDGECNN_TEST_STANDIN_FREERTOS_H_
typedef unsigned int TickType_t;
#define pdMS_TO_TICKS(milliseconds) ((TickType_t)(milliseconds))
#endif  // EDGECNN_TEST_STANDIN_FREERTOS_H_
