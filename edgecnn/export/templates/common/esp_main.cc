// ESP-IDF entry point: the self-test on the bundled test input, then (with EDGECNN_CAMERA) camera frames forever.
#include <stdio.h>

#include "edgecnn_classifier.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "test_input.h"

#if EDGECNN_CAMERA
int EdgecnnCameraSetup();
int EdgecnnCameraClassify(EdgecnnResult* result);
#endif

extern "C" void app_main(void) {
  if (EdgecnnSetup() != 0) {
    printf("edgecnn: setup failed\n");
    return;
  }
  EdgecnnSelfTest test;
  if (EdgecnnRunSelfTest(&test) == 0) {
    printf("edgecnn: self-test: top label %s (%d/1000)%s%s; ", test.result.label, test.result.score_permille,
           kTestInputLabel[0] != '\0' ? ", labelled " : "", kTestInputLabel);
    if (test.differing_bytes < 0) {
      printf("no expected output to compare with\n");
    } else if (test.passed) {
      printf("output equals edgecnn's on the PC bit for bit (%d bytes): PASS\n", test.output_bytes);
    } else {
      printf("%d of %d output bytes differ from edgecnn's on the PC (first at byte %d): FAIL\n",
             test.differing_bytes, test.output_bytes, test.first_difference);
    }
  }
#if EDGECNN_CAMERA
  EdgecnnResult result;
  if (EdgecnnCameraSetup() != 0) {
    printf("edgecnn: camera setup failed\n");
    return;
  }
  while (true) {
    if (EdgecnnCameraClassify(&result) == 0) {
      printf("edgecnn: camera: top label %s (%d/1000)\n", result.label, result.score_permille);
    }
    vTaskDelay(pdMS_TO_TICKS(500));
  }
#endif
}
