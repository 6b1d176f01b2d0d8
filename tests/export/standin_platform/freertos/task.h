// Test stand-in for ESP-IDF's FreeRTOS task header.
#ifndef EDGECNN_TEST_STANDIN_FREERTOS_TASK_H_
#define EDGECNN_TEST_STANDIN_FREERTOS_TASK_H_
#include "freertos/FreeRTOS.h"
void vTaskDelay(TickType_t ticks);
#endif  // EDGECNN_TEST_STANDIN_FREERTOS_TASK_H_
